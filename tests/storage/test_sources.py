"""Sources: sync from config keeps ops decisions; leases let only one daemon poll a source."""
from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from collectors.base import SourceConfig
from storage.sources import due_sources, lease_source, release_source, sync_sources
from storage.tables import Source, utcnow

CFG = SourceConfig(key="vk:wall:-1", platform="vk", handle="-1", interval_s=600, options={"type": "vk_wall"})


def test_sync_adds_then_keeps_operator_disable(sessions):
    with sessions.begin() as s:
        assert sync_sources(s, [CFG]) == {"added": 1, "changed": 0}
    with sessions.begin() as s:
        row = s.scalar(sa.select(Source))
        row.enabled, row.disabled_reason = False, "ops: noisy"
    with sessions.begin() as s:
        assert sync_sources(s, [CFG]) == {"added": 0, "changed": 0}
        assert s.scalar(sa.select(Source.enabled)) is False


def test_lease_is_exclusive_until_expiry(sessions):
    with sessions.begin() as s:
        sync_sources(s, [CFG])
        sid = s.scalar(sa.select(Source.id))
    now = utcnow()
    with sessions.begin() as s:
        assert lease_source(s, sid, "a", 60, now)
    with sessions.begin() as s:
        assert not lease_source(s, sid, "b", 60, now)
        assert lease_source(s, sid, "a", 60, now)  # renewal by the holder
    with sessions.begin() as s:
        assert lease_source(s, sid, "b", 60, now + timedelta(seconds=61))  # the holder died
    with sessions.begin() as s:
        release_source(s, sid, "b")
        assert lease_source(s, sid, "c", 60, now)


def test_due_sources_respect_interval(sessions):
    with sessions.begin() as s:
        sync_sources(s, [CFG])
    now = utcnow()
    with sessions.begin() as s:
        assert [x.key for x in due_sources(s, now)] == ["vk:wall:-1"]
        s.scalar(sa.select(Source)).last_attempt_at = now
    with sessions() as s:
        assert due_sources(s, now + timedelta(seconds=599)) == []
        assert len(due_sources(s, now + timedelta(seconds=600))) == 1
