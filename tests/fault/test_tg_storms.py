"""Telegram storms through the production collector and the collect stage: FloodWaits short and long,
timeouts, dropped connections and server errors across several polls lose and double nothing; a
revoked session or a private channel disables only that source."""
from __future__ import annotations

import asyncio
from collections import Counter

import pytest
import sqlalchemy as sa
from telethon import errors

from collectors.base import SourceConfig
from collectors.pseudonym import Pseudonymizer
from collectors.telegram import build
from storage.sources import sync_sources
from storage.tables import Item, Source
from tests.collectors.fake_tg import FakeTelegram
from tsur.settings import Settings
from tsur.stages.collect import collect_source

NOW = 1_763_900_000
CONFIG = SourceConfig(key="tg:channel:simf_news", platform="tg", handle="simf_news", options={"type": "tg_channel"})


def flood(seconds: int) -> errors.FloodWaitError:
    return errors.FloodWaitError(request=None, capture=seconds)


STORM = [flood(20), TimeoutError(), flood(3600), ConnectionResetError("reset"), flood(5),
         errors.ServerError(request=None, message="INTERNAL"), asyncio.TimeoutError(),
         errors.RpcCallFailError(request=None), flood(1)]


class Sleeper:
    """Records the FloodWaits slept through instead of sleeping."""

    def __init__(self):
        self.slept: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.slept.append(seconds)


def world() -> FakeTelegram:
    """120 posts over 2 days; one of them has a 150-comment thread (two chunks of iter_messages)."""
    fake = FakeTelegram()
    for n in range(1, 121):
        fake.post(n, NOW - (120 - n) * 1200 - 60, f"Пост {n}: нет воды в Симферополе")
    for c in range(150):
        fake.comment(100, 5000 + c, NOW - 20_000 + c, f"комментарий {c}")
    return fake


@pytest.fixture
def settings(tmp_path):
    return Settings(data_dir=tmp_path, tg_api_id="12345", tg_api_hash="0123456789abcdef", tg_session="1fake",
                    tg_flood_wait_max_s=300, vk_lookback_s=3 * 24 * 3600, max_pages_per_poll=50)


def collector(fake, settings, sleeper=None):
    return build(CONFIG, settings, Pseudonymizer(b"k" * 32), make_client=lambda: fake, now=lambda: NOW,
                 sleep=sleeper or Sleeper())


def test_storm_across_polls_loses_and_doubles_nothing(sessions, settings):
    clean = [i for p in collector(world(), settings).fetch(None) for i in p.items]
    expected = {(i.platform, i.source, i.item_id): i.text for i in clean}
    fake, sleeper = world(), Sleeper()
    fake.fail_next(*STORM)
    with sessions.begin() as s:
        sync_sources(s, [CONFIG])
    statuses = []
    for _ in range(12):
        outcome = collect_source(sessions, CONFIG.key, collector(fake, settings, sleeper), worker="w")
        statuses.append(outcome.status)
        if outcome.status == "ok" and not fake.failures:
            break
        with sessions.begin() as s:  # the next poll comes after the pause a long FloodWait asked for
            s.scalar(sa.select(Source)).not_before = None
    assert statuses[-1] == "ok" and statuses.count("retry") >= 5 and "disabled" not in statuses, statuses
    assert sleeper.slept == [20, 5, 1]  # short FloodWaits slept through; the 3600 s one ended its poll
    with sessions() as s:
        stored = Counter(tuple(r) for r in s.execute(sa.select(Item.platform, Item.source, Item.item_id)))
        texts = {(i.platform, i.source, i.item_id): i.text for i in s.scalars(sa.select(Item))}
        source = s.scalar(sa.select(Source))
    assert len(expected) == 270 and set(stored) == set(expected) and max(stored.values()) == 1
    assert texts == expected
    assert source.enabled and source.consecutive_errors == 0


@pytest.mark.parametrize("exc", [errors.SessionRevokedError(request=None), errors.ChannelPrivateError(request=None)])
def test_fatal_errors_disable_only_that_source(sessions, settings, exc):
    other = SourceConfig(key="tg:channel:other", platform="tg", handle="other", options={"type": "tg_channel"})
    with sessions.begin() as s:
        sync_sources(s, [CONFIG, other])
    fake = world()
    fake.fail_next(flood(2), exc)
    bad = collect_source(sessions, CONFIG.key, collector(fake, settings), worker="w")
    good_fake = FakeTelegram(username="other", linked_chat_id=None)
    good_fake.post(1, NOW - 100, "всё хорошо")
    good = build(other, settings, Pseudonymizer(b"k" * 32), make_client=lambda: good_fake, now=lambda: NOW,
                 sleep=Sleeper())
    fine = collect_source(sessions, other.key, good, worker="w")
    assert (bad.status, bad.code, fine.status, fine.new) == ("disabled", type(exc).__name__, "ok", 1)
    with sessions() as s:
        rows = {r.key: r for r in s.scalars(sa.select(Source))}
    assert not rows[CONFIG.key].enabled and "\n" not in rows[CONFIG.key].disabled_reason
    assert "1fake" not in rows[CONFIG.key].disabled_reason and rows[other.key].enabled
