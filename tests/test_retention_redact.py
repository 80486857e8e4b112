"""Retention purges personal data of finished items only; redaction masks identifiers."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
import sqlalchemy as sa

from storage.retention import purge
from storage.tables import AnalysisRow, Decision, Item, Ticket, TicketItem
from tsur.redact import redact

NOW = datetime(2026, 11, 23, 12, tzinfo=timezone.utc)


def add_item(s, n, *, stage="done"):
    item = Item(platform="vk", source="vk:wall:-1", item_id=str(n), published_at=NOW - timedelta(days=60),
                text=f"текст {n} +7 978 123-45-67", text_hash="h", author=f"vk:{n}", url=f"https://vk.com/wall-1_{n}",
                raw={"id": n}, stage=stage)
    s.add(item)
    s.flush()
    a = AnalysisRow(item_pk=item.id, revision=1, model_version="m", is_complaint=True, complaint_proba=0.9,
                    topic_group="ЖКХ", topic_proba=0.9, municipality="городской округ Ялта", geo_evidence="в Ялте")
    s.add(a)
    s.flush()
    return item, a


def test_purge_only_finished(sessions):
    with sessions.begin() as s:
        old_closed, a1 = add_item(s, 1)
        still_open, a2 = add_item(s, 2)
        ignored, a3 = add_item(s, 3)
        fresh_closed, a4 = add_item(s, 4)
        t_old = Ticket(agency="A", status="closed", closed_at=NOW - timedelta(days=40), created_at=NOW - timedelta(days=50))
        t_open = Ticket(agency="A", status="in_progress", created_at=NOW - timedelta(days=50))
        t_fresh = Ticket(agency="A", status="closed", closed_at=NOW - timedelta(days=5))
        s.add_all([t_old, t_open, t_fresh])
        s.flush()
        s.add_all([TicketItem(item_pk=old_closed.id, ticket_id=t_old.id, via="create"),
                   TicketItem(item_pk=still_open.id, ticket_id=t_open.id, via="create"),
                   TicketItem(item_pk=fresh_closed.id, ticket_id=t_fresh.id, via="create"),
                   Decision(item_pk=ignored.id, analysis_id=a3.id, outcome="ignore", rule="not_complaint", reason="",
                            created_at=NOW - timedelta(days=45))])
    with sessions.begin() as s:
        assert purge(s, NOW, 30) == 2
    with sessions.begin() as s:
        assert purge(s, NOW, 30) == 0  # idempotent
    with sessions() as s:
        rows = {i.item_id: i for i in s.scalars(sa.select(Item))}
        for n in ("1", "3"):
            assert (rows[n].text, rows[n].raw, rows[n].author, rows[n].url) == (None, None, None, None)
            assert rows[n].purged_at == NOW
        for n in ("2", "4"):
            assert rows[n].text and rows[n].author
        kept = s.scalar(sa.select(AnalysisRow).where(AnalysisRow.item_pk == rows["1"].id))
        assert (kept.topic_group, kept.municipality, kept.geo_evidence) == ("ЖКХ", "городской округ Ялта", None)
        assert s.scalar(sa.select(sa.func.count()).select_from(Ticket)) == 3


@pytest.mark.parametrize("text, expected", [
    ("звоните 8 (978) 123-45-67 после обеда", "звоните [PHONE] после обеда"),
    ("+7 978 1234567", "[PHONE]"),
    ("пишите ivan.petrov@mail.ru", "пишите [EMAIL]"),
    ("[id12345|Иван], ответьте", "[MENTION], ответьте"),
    ("https://vk.com/id777 опять", "[PROFILE] опять"),
    ("паспорт 3914 123456", "паспорт [DOCUMENT]"),
    ("СНИЛС 123-456-789 01", "СНИЛС [DOCUMENT]"),
    ("дом 15, кв. 3, 2 подъезд", "дом 15, кв. 3, 2 подъезд"),
    ("https://vk.com/wall-100001_25", "https://vk.com/wall-100001_25"),
    ("пишет vk.com/id12345, ответьте", "пишет [PROFILE], ответьте"),
    ("канал t.me/x", "канал [PROFILE]"),
    ("пост https://vk.com/wall150443210_5?reply=7", "пост [PROFILE]"),
    ("https://vk.com/wall-100001_25?reply=3", "https://vk.com/wall-100001_25?reply=3"),
    ("https://t.me/simf_news/2?comment=501", "https://t.me/simf_news/2?comment=501"),
    ("группа vk.com/club123", "группа vk.com/club123"),
    ("паспорт 39 14 123456 выдан", "паспорт [DOCUMENT] выдан"),
    ("ИНН 123456789012", "ИНН [DOCUMENT]"),
    ("инн: 9102012345", "инн: [DOCUMENT]"),
    ("СНИЛС 12345678901", "СНИЛС [DOCUMENT]"),
    ("карта 4276 3800 1234 5679 сбер", "карта [CARD] сбер"),
    ("на 2202-2012-3456-7895", "на [CARD]"),
    ("номер 1234 5678 9012 3456", "номер 1234 5678 9012 3456"),  # fails the Luhn check: not a card
    ("звоните 978-123-45-67", "звоните [PHONE]"),
    ("(978) 123-45-67", "[PHONE]"),
    ("17 ноября с 9:00 до 17:00, 2026-11-23", "17 ноября с 9:00 до 17:00, 2026-11-23"),
    ("ОГРН 1149102000010", "ОГРН 1149102000010"),
])
def test_redact(text, expected):
    assert redact(text) == expected
