"""Retention purges personal data of finished items only; redaction masks identifiers."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
import sqlalchemy as sa

from storage.retention import purge, purge_tickets
from storage.tables import AnalysisRow, Decision, Item, Label, Outbox, QuarantineRecord, Ticket, TicketItem
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


PHONE = "+7 978 123-45-67"


def add_ticket(s, status="closed", closed_days=40):
    ticket = Ticket(agency="A", topic_group="ЖКХ", municipality="городской округ Ялта", importance="high",
                    status=status, summary=f"нет воды, {PHONE}", sample_texts=[f"нет воды, {PHONE}", "и у нас"],
                    created_at=NOW - timedelta(days=50), due_at=NOW - timedelta(days=49),
                    closed_at=NOW - timedelta(days=closed_days) if status == "closed" else None)
    s.add(ticket)
    s.flush()
    return ticket


def test_purge_drops_texts_of_closed_tickets_keeping_their_statistics(sessions):
    with sessions.begin() as s:
        old, fresh, live = add_ticket(s).id, add_ticket(s, closed_days=5).id, add_ticket(s, "in_progress").id
    with sessions.begin() as s:
        purge(s, NOW, 30)
    with sessions.begin() as s:
        assert purge_tickets(s, NOW - timedelta(days=30)) == 0  # nothing left to purge
    with sessions() as s:
        tickets = {t.id: t for t in s.scalars(sa.select(Ticket))}
    assert (tickets[old].summary, tickets[old].sample_texts) == (None, [])
    assert (tickets[old].topic_group, tickets[old].municipality, tickets[old].importance, tickets[old].due_at) == \
        ("ЖКХ", "городской округ Ялта", "high", NOW - timedelta(days=49))
    assert all(PHONE in tickets[t].summary and len(tickets[t].sample_texts) == 2 for t in (fresh, live))


def add_outbox(s, ticket, key, status="sent", sent_days=40):
    payload = {"kind": "ticket.created", "key": key,
               "ticket": {"id": ticket.id, "topic_group": "ЖКХ", "municipality": "городской округ Ялта",
                          "summary": f"нет воды, {PHONE}", "due_at": "2026-10-05T09:00:00+00:00"},
               "items": [{"platform": "vk", "kind": "comment", "url": "https://vk.com/wall150443210_1?reply=2",
                          "text": f"нет воды, {PHONE}", "published_at": "2026-10-04T09:00:00+00:00"}]}
    s.add(Outbox(key=key, ticket_id=ticket.id, channel="webhook", target="https://agency.example/hook", payload=payload,
                 status=status, sent_at=NOW - timedelta(days=sent_days) if status == "sent" else None,
                 created_at=NOW - timedelta(days=45)))


def test_purge_strips_texts_and_links_from_delivered_messages(sessions):
    with sessions.begin() as s:
        ticket = add_ticket(s, "in_progress")
        add_outbox(s, ticket, "old")
        add_outbox(s, ticket, "fresh", sent_days=5)
        add_outbox(s, ticket, "pending", status="pending")
    with sessions.begin() as s:
        purge(s, NOW, 30)
    with sessions.begin() as s:
        purge(s, NOW + timedelta(days=1), 30)  # already purged rows stay as they are
    with sessions() as s:
        rows = {r.key: r.payload for r in s.scalars(sa.select(Outbox))}
    old = rows["old"]
    assert PHONE not in str(old) and "vk.com" not in str(old)
    assert old["items"] == [{"platform": "vk", "kind": "comment", "published_at": "2026-10-04T09:00:00+00:00"}]
    assert (old["ticket"]["topic_group"], old["ticket"]["due_at"], old["purged_at"]) == \
        ("ЖКХ", "2026-10-05T09:00:00+00:00", NOW.isoformat())
    assert PHONE in rows["fresh"]["items"][0]["text"] and PHONE in rows["pending"]["ticket"]["summary"]


def test_purge_drops_old_quarantined_payloads(sessions):
    with sessions.begin() as s:
        for days in (40, 5):
            s.add(QuarantineRecord(source="vk:wall:-1", reason="vk_comment 7: bad date 'x'",
                                   raw={"type": "vk_comment", "payload": {"text": PHONE}},
                                   created_at=NOW - timedelta(days=days)))
    with sessions.begin() as s:
        purge(s, NOW, 30)
    with sessions() as s:
        rows = s.execute(sa.select(QuarantineRecord.reason, QuarantineRecord.raw).order_by(QuarantineRecord.id)).all()
    assert [(r.reason, r.raw is None) for r in rows] == [("vk_comment 7: bad date 'x'", True),
                                                          ("vk_comment 7: bad date 'x'", False)]


def review_decision(s, n, *, dismissed_days=None):
    """An item sent to review 45 days ago; dismissed by an operator `dismissed_days` ago (None: still open)."""
    from routing.review import resolve_review

    item, analysis = add_item(s, n)
    decision = Decision(item_pk=item.id, analysis_id=analysis.id, outcome="review", rule="low_confidence",
                        reason="", created_at=NOW - timedelta(days=45))
    s.add(decision)
    s.flush()
    if dismissed_days is not None:
        resolve_review(s, decision, "ignore", actor="ops:anna", reason="не жалоба",
                       now=NOW - timedelta(days=dismissed_days))
    return item


def test_purge_items_dismissed_in_review_after_the_dismissal_ages(sessions):
    with sessions.begin() as s:
        review_decision(s, 1, dismissed_days=40)
        review_decision(s, 2, dismissed_days=5)
        review_decision(s, 3)
    with sessions.begin() as s:
        assert purge(s, NOW, 30) == 1
    with sessions() as s:
        rows = {i.item_id: i for i in s.scalars(sa.select(Item))}
        labels = s.scalar(sa.select(sa.func.count()).select_from(Label))
    assert (rows["1"].text, rows["1"].raw, rows["1"].author, rows["1"].url) == (None, None, None, None)
    assert rows["2"].text and rows["3"].text and labels == 2


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
