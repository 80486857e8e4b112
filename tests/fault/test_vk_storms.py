"""VK error storms through the production collector and the collect stage: API errors 6/9/10/29,
HTTP 5xx, dropped connections, answers slower than the timeout and truncated JSON. After the storm
every item is stored exactly once and the source stays enabled; fatal errors disable only it."""
from __future__ import annotations

from collections import Counter

import pytest
import sqlalchemy as sa

from collectors.pseudonym import Pseudonymizer
from collectors.ratelimit import SimulatedClock
from storage.sources import sync_sources
from storage.tables import Item, Source
from tests.collectors.vk_world import populate_wall, vk_collector, wall_config
from tests.support.storm_vk import StormVk, StormVkServer
from tsur.settings import Settings
from tsur.stages.collect import collect_source

NOW = 1_763_900_000
TOKEN = "storm-test-token"
OWNER = -321
TIMEOUT_S = 0.4
STORM = {  # per method, in order; each retriable burst is longer than one call's 4 attempts
    "wall.get": ["ok", 6, 9, 10, 29, "http500", "slow", "truncated", "drop", "ok", 6, 6, 6, 6],
    "execute": [10, "truncated", "slow", "http500", "drop", 29, 29, 29, 29],
    "wall.getComments": [9, 10],  # also used inside execute, where only API errors apply
}


def world(fake: StormVk) -> None:
    """150 posts over 2 days (two wall.get pages) with comments and threads."""
    populate_wall(fake, OWNER, NOW, posts=150, every_s=1150, comments_per_post=2)


def item_keys(items) -> set[tuple[str, str, str]]:
    return {(i.platform, i.source, i.item_id) for i in items}


@pytest.fixture
def settings(tmp_path):
    return Settings(vk_token=TOKEN, data_dir=tmp_path, http_timeout_s=TIMEOUT_S, max_pages_per_poll=50,
                    vk_lookback_s=3 * 24 * 3600)


def clean_harvest(settings) -> dict[tuple[str, str, str], str]:
    """What one poll without any failure stores: the reference the stormy run must equal."""
    clock = SimulatedClock(1000.0)
    fake = StormVk(token=TOKEN, clock=clock)
    world(fake)
    with StormVkServer(fake) as url:
        collector = vk_collector(wall_config(OWNER, url), settings, Pseudonymizer(b"k" * 32), clock, NOW)
        items = [i for page in collector.fetch(None) for i in page.items]
    return {(i.platform, i.source, i.item_id): i.text for i in items}


def test_retriable_storm_loses_and_doubles_nothing(sessions, settings):
    expected = clean_harvest(settings)
    clock = SimulatedClock(1000.0)
    fake = StormVk(token=TOKEN, clock=clock, slow_s=TIMEOUT_S + 0.3)
    world(fake)
    for method, script in STORM.items():
        fake.fail(method, *script)
    statuses = []
    with StormVkServer(fake) as url:
        config = wall_config(OWNER, url)
        with sessions.begin() as s:
            sync_sources(s, [config])
        collector = vk_collector(config, settings, Pseudonymizer(b"k" * 32), clock, NOW)
        for _ in range(10):
            outcome = collect_source(sessions, config.key, collector, worker="storm")
            statuses.append(outcome.status)
            if outcome.status == "ok" and not any(fake.failures.values()):
                break
    assert statuses[-1] == "ok" and "retry" in statuses and "disabled" not in statuses, statuses
    assert fake.specials_served == 4 and not any(fake.failures.values()), (fake.specials_served, dict(fake.failures))
    with sessions() as s:
        stored = Counter(tuple(r) for r in s.execute(sa.select(Item.platform, Item.source, Item.item_id)))
        texts = {(r.platform, r.source, r.item_id): r.text for r in s.scalars(sa.select(Item))}
        source = s.scalar(sa.select(Source))
    assert set(stored) == set(expected) and max(stored.values()) == 1
    assert texts == expected
    assert source.enabled and source.consecutive_errors == 0 and source.last_error


@pytest.mark.parametrize("code", [5, 15])
def test_fatal_error_disables_only_that_source(sessions, settings, code):
    clock = SimulatedClock(1000.0)
    fake = StormVk(token=TOKEN, clock=clock)
    world(fake)
    populate_wall(fake, OWNER - 1, NOW, posts=5, comments_per_post=0)
    fake.fail("wall.get", 6, code)  # a retriable error first, then the fatal one
    with StormVkServer(fake) as url:
        bad, good = wall_config(OWNER, url), wall_config(OWNER - 1, url)
        with sessions.begin() as s:
            sync_sources(s, [bad, good])
        pseudonymize = Pseudonymizer(b"k" * 32)
        first = collect_source(sessions, bad.key, vk_collector(bad, settings, pseudonymize, clock, NOW), worker="w")
        second = collect_source(sessions, good.key, vk_collector(good, settings, pseudonymize, clock, NOW), worker="w")
    assert (first.status, first.code, second.status, second.new) == ("disabled", str(code), "ok", 5)
    with sessions() as s:
        rows = {r.key: r for r in s.scalars(sa.select(Source))}
    assert not rows[bad.key].enabled and f"VK error {code}" in rows[bad.key].disabled_reason
    assert "\n" not in rows[bad.key].disabled_reason and TOKEN not in rows[bad.key].disabled_reason
    assert rows[good.key].enabled


def test_captcha_is_retriable_not_fatal(sessions, settings):
    clock = SimulatedClock(1000.0)
    fake = StormVk(token=TOKEN, clock=clock)
    world(fake)
    fake.fail("wall.get", 14)
    with StormVkServer(fake) as url:
        config = wall_config(OWNER, url)
        with sessions.begin() as s:
            sync_sources(s, [config])
        collector = vk_collector(config, settings, Pseudonymizer(b"k" * 32), clock, NOW)
        outcomes = [collect_source(sessions, config.key, collector, worker="w").status for _ in range(2)]
    assert outcomes == ["retry", "ok"]
    with sessions() as s:
        assert s.scalar(sa.select(Source.enabled))
