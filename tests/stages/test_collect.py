"""Collect stage: pages and cursor stored together, resume after interruption, error taxonomy."""
from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest
import sqlalchemy as sa

from collectors.base import CallStats, SourceConfig
from collectors.errors import Fatal, NotConfigured, Retriable
from collectors.pseudonym import Pseudonymizer
from collectors.replay import ReplayCollector
from storage.items import load_cursor, save_cursor
from storage.sources import due_sources, lease_source, sync_sources
from storage.tables import Item, QuarantineRecord, Run, Source, utcnow
from tsur.records import Page, RawItem
from tsur.stages.collect import collect_source

T0 = datetime(2026, 11, 20, tzinfo=timezone.utc)
CFG = SourceConfig(key="test:src", platform="vk", handle="x", options={"type": "vk_wall"})


class ListCollector:
    """Yields pages of `per_page` items from position cursor['n']; may fail after `fail_after` pages."""

    def __init__(self, total=10, per_page=3, fail_after=None, error=None):
        self.source, self.total, self.per_page = CFG, total, per_page
        self.fail_after, self.error = fail_after, error

    def fetch(self, cursor):
        start = (cursor or {}).get("n", 0)
        pages = 0
        for lo in range(start, self.total, self.per_page):
            if self.fail_after is not None and pages == self.fail_after:
                raise self.error
            hi = min(lo + self.per_page, self.total)
            items = tuple(RawItem("vk", CFG.key, str(i), T0 + timedelta(minutes=i), f"text {i}") for i in range(lo, hi))
            pages += 1
            yield Page(items, {"n": hi}, requests=1)


@pytest.fixture
def src(sessions):
    with sessions.begin() as s:
        sync_sources(s, [CFG])
    return CFG.key


def stored(sessions):
    with sessions() as s:
        return sorted(s.scalars(sa.select(Item.item_id)), key=int)


def test_uninterrupted_equals_interrupted_plus_resumed(sessions, src):
    out = collect_source(sessions, src, ListCollector(fail_after=2, error=Retriable("timeout")), worker="w")
    assert (out.status, out.pages, out.new) == ("retry", 2, 6)
    assert stored(sessions) == [str(i) for i in range(6)]
    out = collect_source(sessions, src, ListCollector(), worker="w")
    assert (out.status, out.new) == ("ok", 4)
    assert stored(sessions) == [str(i) for i in range(10)]
    again = collect_source(sessions, src, ListCollector(), worker="w")
    assert again.new == 0 and stored(sessions) == [str(i) for i in range(10)]
    with sessions() as s:
        row = s.scalar(sa.select(Source))
        assert row.enabled and row.consecutive_errors == 0 and row.last_success_at is not None
        runs = list(s.scalars(sa.select(Run).order_by(Run.id)))
        assert [r.status for r in runs] == ["error", "ok", "ok"]
        assert runs[0].counts["new"] == 6 and "timeout" in runs[0].error


@pytest.mark.parametrize("error, status, enabled", [
    (Retriable("Too many requests per second", code=6), "retry", True),
    (Fatal("User authorization failed", code=5), "disabled", False),
    (NotConfigured("TSUR_VK_TOKEN not set"), "disabled", False),
    (ValueError("unexpected"), "retry", True),
])
def test_error_taxonomy(sessions, src, error, status, enabled):
    out = collect_source(sessions, src, ListCollector(fail_after=0, error=error), worker="w")
    assert out.status == status
    with sessions() as s:
        row = s.scalar(sa.select(Source))
        assert row.enabled is enabled and str(error) in row.last_error
        assert row.lease_owner is None  # released for the next poll


class Costly(ListCollector):
    """A ListCollector keeping `stats`: after its pages it spends 3 requests and 7 s backing off, then fails."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.stats = CallStats()

    def fetch(self, cursor):
        yield from super().fetch(cursor)
        self.stats.requests, self.stats.waits = 3, 7.0
        raise Retriable("Too many requests per second", code=6)


def test_a_failed_poll_reports_what_it_spent(sessions, src):
    out = collect_source(sessions, src, Costly(total=3), worker="w")
    assert (out.status, out.pages, out.requests, out.waits) == ("retry", 1, 4, 7.0)  # 1 with the page, 3 after
    with sessions() as s:
        counts = s.scalar(sa.select(Run.counts))
    assert (counts["requests"], counts["waits"]) == (4, 7.0)


def test_a_pause_asked_for_by_the_api_is_honoured(sessions, src):
    pause = Retriable("FloodWait of 3600 s", code="FLOOD_WAIT", retry_after=3600)
    assert collect_source(sessions, src, ListCollector(fail_after=0, error=pause), worker="w").status == "retry"
    with sessions() as s:
        row = s.scalar(sa.select(Source))
        assert 3590 < (row.not_before - utcnow()).total_seconds() <= 3600
        assert due_sources(s, row.last_attempt_at + timedelta(minutes=20)) == []  # interval passed, pause not
        assert [r.key for r in due_sources(s, row.not_before + timedelta(seconds=1))] == [src]
    out = collect_source(sessions, src, ListCollector(), worker="w")
    assert out.status == "deferred" and "paused until" in out.error and stored(sessions) == []
    with sessions.begin() as s:
        s.scalar(sa.select(Source)).not_before = utcnow() - timedelta(seconds=1)
    assert collect_source(sessions, src, ListCollector(), worker="w").status == "ok"
    with sessions() as s:
        assert s.scalar(sa.select(sa.func.count()).select_from(Run)) == 2  # the deferred call ran no poll


def test_leased_elsewhere_is_skipped(sessions, src):
    with sessions.begin() as s:
        assert lease_source(s, s.scalar(sa.select(Source.id)), "other-daemon", 600)
    assert collect_source(sessions, src, ListCollector(), worker="w").status == "leased_elsewhere"
    assert stored(sessions) == []


class Interrupted(ListCollector):
    """A ListCollector that runs `between()` after its first page is stored (a poll that slept too long)."""

    def __init__(self, between):
        super().__init__()
        self.between = between

    def fetch(self, cursor):
        for n, page in enumerate(super().fetch(cursor)):
            if n == 1:
                self.between()
            yield page


def taken_over(sessions):
    """Our lease runs out and daemon B takes the source and stores its own progress."""
    with sessions.begin() as s:
        s.scalar(sa.select(Source)).lease_until = utcnow() - timedelta(seconds=1)
    with sessions.begin() as s:
        sid = s.scalar(sa.select(Source.id))
        assert lease_source(s, sid, "daemon-b", 600)
        save_cursor(s, sid, {"n": 99})


def switched_off(sessions):
    with sessions.begin() as s:
        s.scalar(sa.select(Source)).enabled = False


@pytest.mark.parametrize("between, cursor, owner", [(taken_over, {"n": 99}, "daemon-b"),
                                                    (switched_off, {"n": 3}, None)])
def test_lost_lease_rolls_back_the_page_and_stops(sessions, src, between, cursor, owner):
    out = collect_source(sessions, src, Interrupted(lambda: between(sessions)), worker="daemon-a")
    assert (out.status, out.pages, out.code) == ("lease_lost", 1, "lease_lost")
    assert stored(sessions) == ["0", "1", "2"]  # the page read after the lease was lost is not stored
    with sessions() as s:
        row = s.scalar(sa.select(Source))
        assert load_cursor(s, row.id) == cursor and row.lease_owner == owner
        assert row.consecutive_errors == 0 and row.last_success_at is None
        assert s.scalar(sa.select(Run.status)) == "error"


def test_replay_resumes_and_quarantines(sessions, tmp_path):
    lines = [{"type": "raw_item", "source": "replay:x", "payload": {
        "platform": "vk", "source": "vk:wall:-5", "item_id": str(i), "published_at": "2026-11-20T10:00:00+03:00",
        "text": f"Нет света {i}"}} for i in range(5)]
    path = tmp_path / "rec.jsonl"
    body = [json.dumps(x, ensure_ascii=False) for x in lines]
    body.insert(2, '{"type": "raw_item", "payload": {"platform": "vk"')  # truncated line
    body.insert(3, '{"type": "raw_item", "payload": {"platform": "vk", "source": "s", "item_id": "9", "text": "x", "published_at": "yesterday"}}')
    path.write_text("\n".join(body) + "\n", encoding="utf-8")
    cfg = SourceConfig(key="replay:x", platform="replay", handle=str(path), options={"type": "replay"})
    with sessions.begin() as s:
        sync_sources(s, [cfg])
    replay = ReplayCollector(cfg, path, Pseudonymizer(b"k" * 16), page_lines=2)
    out = collect_source(sessions, cfg.key, replay, worker="w")
    assert (out.status, out.new, out.quarantined) == ("ok", 5, 2)
    with sessions() as s:
        assert load_cursor(s, s.scalar(sa.select(Source.id))) == {"line": 7}
        reasons = sorted(s.scalars(sa.select(QuarantineRecord.reason)))
        assert reasons[0].startswith("rec.jsonl:3: ") and reasons[1].startswith("rec.jsonl:4: raw_item")
        first = s.scalar(sa.select(Item).where(Item.item_id == "0"))
        assert first.published_at == datetime(2026, 11, 20, 7, tzinfo=timezone.utc)
    path.write_text(path.read_text(encoding="utf-8") + json.dumps(lines[0] | {"payload": lines[0]["payload"] | {"item_id": "new"}}) + "\n")
    out = collect_source(sessions, cfg.key, replay, worker="w")
    assert (out.new, out.quarantined) == (1, 0)  # resumed after line 7, nothing re-read
