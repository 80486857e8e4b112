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


def test_sync_enables_again_what_was_not_configured_only(sessions):
    """Disabled as not configured → enabled once configured (one log line); operator, fatal and config stay off."""
    from storage.sources import NOT_CONFIGURED, disable_source

    keys = ["vk:wall:-1", "vk:wall:-2", "vk:wall:-3", "vk:wall:-4", "vk:wall:-5"]
    configs = [SourceConfig(key=k, platform="vk", handle=k[8:], options={"type": "vk_wall"}) for k in keys]
    configs[4] = SourceConfig(key=keys[4], platform="vk", handle="-5", enabled=False, options={"type": "vk_wall"})
    with sessions.begin() as s:
        sync_sources(s, configs)
        rows = {r.key: r for r in s.scalars(sa.select(Source))}
        disable_source(rows[keys[0]], f"{NOT_CONFIGURED}vk:wall:-1: TSUR_VK_TOKEN is not set")
        disable_source(rows[keys[1]], "vk:wall:-2: TSUR_VK_TOKEN is not set")  # as recorded before NOT_CONFIGURED
        rows[keys[2]].enabled, rows[keys[2]].disabled_reason = False, "group closed (ops)"
        disable_source(rows[keys[3]], "Fatal 5: vk:wall:-4: VK error 5: User authorization failed")
        disable_source(rows[keys[4]], f"{NOT_CONFIGURED}vk:wall:-5: TSUR_VK_TOKEN is not set")
    asked = []
    with sessions.begin() as s:
        assert sync_sources(s, configs, configured=lambda cfg: asked.append(cfg.key) or False)["changed"] == 0
    assert sorted(asked) == keys[:2]  # only those disabled as not configured (and not off in config) are tried
    with sessions.begin() as s:
        assert sync_sources(s, configs, configured=lambda cfg: True) == {"added": 0, "changed": 2}
        state = {r.key: (r.enabled, r.disabled_reason) for r in s.scalars(sa.select(Source))}
    assert state[keys[0]] == state[keys[1]] == (True, None)
    assert [state[k][0] for k in keys[2:]] == [False, False, False]


def test_sync_switched_on_in_config_again(sessions):
    off = SourceConfig(key=CFG.key, platform="vk", handle="-1", enabled=False, options={"type": "vk_wall"})
    with sessions.begin() as s:
        sync_sources(s, [off])
        assert s.scalar(sa.select(Source.disabled_reason)) == "disabled in config"
    with sessions.begin() as s:
        assert sync_sources(s, [CFG]) == {"added": 0, "changed": 1}
        assert s.scalar(sa.select(Source.enabled)) is True
