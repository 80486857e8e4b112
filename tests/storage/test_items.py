"""Storing pages: idempotent upserts, edits bump the revision, cursor and items commit together."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest
import sqlalchemy as sa

from storage.items import claim_items, load_cursor, save_page, upsert_items
from storage.tables import Item, QuarantineRecord, Source
from tsur.records import Page, Quarantined, RawItem

T0 = datetime(2026, 11, 20, 9, 30, tzinfo=timezone.utc)


def item(n: int, text: str = "нет воды", **kw) -> RawItem:
    return RawItem(platform="vk", source="vk:wall:-1", item_id=str(n), published_at=T0, text=text, **kw)


@pytest.fixture
def source(sessions) -> Source:
    with sessions.begin() as s:
        src = Source(key="vk:wall:-1", platform="vk", handle="-1")
        s.add(src)
    return src


def store(sessions, source, page):
    with sessions.begin() as s:
        return save_page(s, s.get(Source, source.id), page)


def test_save_page_is_idempotent(sessions, source):
    page = Page((item(1), item(2), item(3)), {"newest": 3})
    assert store(sessions, source, page).new == 3
    again = store(sessions, source, page)
    assert (again.new, again.updated, again.unchanged) == (0, 0, 3)
    with sessions() as s:
        assert s.scalar(sa.select(sa.func.count()).select_from(Item)) == 3
        assert load_cursor(s, source.id) == {"newest": 3}


def test_edit_bumps_revision_and_requeues(sessions, source):
    store(sessions, source, Page((item(1),), None))
    with sessions.begin() as s:
        s.scalar(sa.select(Item)).stage = "done"
    result = store(sessions, source, Page((item(1, "нет воды третий день"),), None))
    assert result.updated == 1
    with sessions() as s:
        row = s.scalar(sa.select(Item))
        assert (row.revision, row.stage, row.text) == (2, "analyse", "нет воды третий день")
        assert row.published_at == T0  # timezone-aware UTC on both dialects


def test_duplicate_in_one_page_last_wins(sessions, source):
    result = store(sessions, source, Page((item(1, "a"), item(1, "b")), None))
    assert result.new == 1
    with sessions() as s:
        assert s.scalar(sa.select(Item.text)) == "b"


def test_failed_page_stores_neither_items_nor_cursor(sessions, source):
    with pytest.raises(RuntimeError):
        with sessions.begin() as s:
            save_page(s, s.get(Source, source.id), Page((item(1),), {"newest": 1}))
            raise RuntimeError("crash before commit")
    with sessions() as s:
        assert s.scalar(sa.select(sa.func.count()).select_from(Item)) == 0
        assert load_cursor(s, source.id) is None


def test_quarantine_kept(sessions, source):
    store(sessions, source, Page((), None, (Quarantined("vk:wall:-1", "bad date", {"id": 5}),)))
    with sessions() as s:
        row = s.scalar(sa.select(QuarantineRecord))
        assert (row.reason, row.raw) == ("bad date", {"id": 5})


def test_claim_takes_only_the_stage(sessions, source):
    store(sessions, source, Page(tuple(item(n) for n in range(5)), None))
    with sessions.begin() as s:
        claimed = claim_items(s, "analyse", 3)
        assert [c.item_id for c in claimed] == ["0", "1", "2"]
        for c in claimed:
            c.stage = "route"
    with sessions.begin() as s:
        assert [c.item_id for c in claim_items(s, "analyse", 10)] == ["3", "4"]


def test_naive_datetime_refused(sessions, source):
    """upsert_items refuses a naive datetime (save_page then quarantines that item: see below)."""
    bad = RawItem(platform="vk", source="vk:wall:-1", item_id="x", published_at=datetime(2026, 1, 1), text="t")
    with pytest.raises(sa.exc.StatementError, match="naive datetime"):
        with sessions.begin() as s:
            upsert_items(s, [bad])


def test_poison_text_is_cleaned_not_refused(sessions, source):
    nasty = "нет\x00 воды \ud83d конец"
    store(sessions, source, Page((item(1, nasty, raw={"t\x00": ["\udc00", 1]}),), None))
    with sessions() as s:
        row = s.scalar(sa.select(Item))
        assert row.text == "нет воды \ufffd конец"
        assert row.raw == {"t": ["\ufffd", 1]}
    again = store(sessions, source, Page((item(1, nasty),), None))
    assert again.unchanged == 1  # the hash is of the cleaned text, so a re-fetch is not an edit


def test_a_record_the_database_refuses_is_quarantined_and_the_rest_stored(sessions, source):
    """The safety net under the collectors' checks: each refused item is quarantined in its own SAVEPOINT."""
    naive = RawItem(platform="vk", source="vk:wall:-1", item_id="2", published_at=datetime(2026, 11, 20),
                    text="секрет")
    long_kind = item(3, kind="k" * 17)  # PostgreSQL refuses varchar(16); SQLite stores it
    result = store(sessions, source, Page((item(1), naive, long_kind, item(4)), {"line": 4}))
    postgres = sessions.kw["bind"].dialect.name == "postgresql"
    with sessions() as s:
        ids = set(s.scalars(sa.select(Item.item_id)))
        reasons = list(s.scalars(sa.select(QuarantineRecord.reason)))
        assert load_cursor(s, source.id) == {"line": 4}
    assert ids == ({"1", "4"} if postgres else {"1", "3", "4"})
    assert result.quarantined == len(reasons) == (2 if postgres else 1)
    assert all(r.startswith("not stored: ") and "\n" not in r and "секрет" not in r for r in reasons), reasons


def test_a_database_outage_still_raises(sessions, source, monkeypatch):
    """An OperationalError is not one record's fault: it propagates, and the daemon's outage handling acts."""
    import storage.items

    def down(*_a, **_k):
        raise sa.exc.OperationalError("INSERT", {}, Exception("server closed the connection"))

    monkeypatch.setattr(storage.items, "upsert_items", down)
    with pytest.raises(sa.exc.OperationalError):
        store(sessions, source, Page((item(1),), {"line": 1}))
