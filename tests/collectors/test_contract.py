"""The contract every collector keeps, run through the real runner (collect_source) on SQLite and PostgreSQL.

- the cursor only moves forward;
- an interrupted run followed by a resumed one stores exactly what one uninterrupted run stores;
- re-running stores no duplicates;
- errors are classified: fatal ones disable only that source, retriable ones keep it and its progress.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from telethon import errors as tg_errors

from collectors.base import SourceConfig
from collectors.errors import Retriable
from collectors.telegram import build as build_tg
from collectors.web import build as build_web
from storage.db import make_engine, make_sessionmaker, upgrade
from storage.items import load_cursor
from storage.sources import sync_sources
from storage.tables import Item, Run, Source
from tests.collectors.conftest import NOW
from tests.collectors.fake_tg import FakeTelegram
from tests.collectors.vk_world import populate_wall, search_config, vk_collector, wall_config
from tests.collectors.web_server import FakeSite, SiteServer
from tsur.stages.collect import collect_source

FIXTURES = Path(__file__).parent / "fixtures" / "web"


@dataclass
class Harness:
    """One collector kind wired to its fake world."""

    config: SourceConfig
    make: Callable[[], Any]
    position: Callable[[dict | None], Any]  # the part of the cursor that must never go back
    add_more: Callable[[], None]
    fail_fatal: Callable[[], None]
    fail_retriable: Callable[[], None]


def _vk_wall(request, settings, pseudonymize, clock) -> Harness:
    fake, url = request.getfixturevalue("fake_vk"), request.getfixturevalue("vk_url")
    populate_wall(fake, -100, NOW - 3600, posts=150, every_s=600)
    cfg = wall_config(-100, url)

    def add_more():
        fake.add_post(-100, 151, NOW - 30, "Новый пост про мусор")
        fake.add_comment(-100, 139, 99901, NOW - 20, "Поздний комментарий")

    return Harness(cfg, lambda: vk_collector(cfg, settings, pseudonymize, clock, NOW),
                   lambda c: (c or {}).get("last_id") or -1, add_more,
                   lambda: fake.fail("wall.get", 15), lambda: fake.fail("wall.get", *[10] * 4))


def _vk_search(request, settings, pseudonymize, clock) -> Harness:
    fake, url = request.getfixturevalue("fake_vk"), request.getfixturevalue("vk_url")
    for n in range(300):
        fake.corpus.append({"id": n + 1, "owner_id": -(n % 5) - 1, "from_id": n, "date": NOW - 7200 - 60 * n,
                            "text": f"Ялта, дом {n}: нет света", "post_type": "post"})
    cfg = search_config("yalta", "ялта", url)

    def add_more():
        fake.corpus.append({"id": 999, "owner_id": -1, "from_id": 1, "date": NOW - 10, "text": "Ялта: новый пост",
                            "post_type": "post"})

    return Harness(cfg, lambda: vk_collector(cfg, settings, pseudonymize, clock, NOW),
                   lambda c: (c or {}).get("last_date") or -1, add_more,
                   lambda: fake.fail("newsfeed.search", 5), lambda: fake.fail("newsfeed.search", *[29] * 4))


def _tg(request, settings, pseudonymize, clock) -> Harness:
    fake = FakeTelegram()
    for n in range(1, 151):
        fake.post(n, NOW - 3600 - (150 - n) * 600, f"Сообщение {n}")
        if n % 20 == 0:
            fake.comment(n, 10000 + n, NOW - 1000, f"Комментарий к {n}")
    cfg = SourceConfig(key="tg:channel:simf_news", platform="tg", handle="simf_news", options={"type": "tg_channel"})

    async def no_sleep(seconds):
        clock.sleep(seconds)

    def add_more():
        fake.post(151, NOW - 5, "Новое сообщение")
        fake.post(100, NOW - 3600 - 50 * 600, "Сообщение 100 (исправлено)")
        fake.comment(120, 20000, NOW - 4, "Ещё комментарий")

    return Harness(cfg, lambda: build_tg(cfg, settings, pseudonymize, make_client=lambda: fake, now=lambda: NOW,
                                         sleep=no_sleep),
                   lambda c: (c or {}).get("last_id") or -1, add_more,
                   lambda: fake.fail_next(tg_errors.ChannelPrivateError(request=None)),
                   lambda: fake.fail_next(tg_errors.FloodWaitError(request=None, capture=10**6)))


def _web(request, settings, pseudonymize, clock) -> Harness:
    site = FakeSite()
    body = (FIXTURES / "feed.xml").read_text()
    site.put("/rss", body, "application/rss+xml")
    server = SiteServer(site)
    base = server.__enter__()
    request.addfinalizer(lambda: server.__exit__(None, None, None))
    cfg = SourceConfig(key=f"web:{base}/rss", platform="web", handle=f"{base}/rss", kind="web",
                       options={"type": "web"})

    def add_more():
        extra = ("<item><title>Новая новость</title><link>https://simf.rk.gov.ru/news/1003</link>"
                 "<pubDate>Sun, 23 Nov 2025 12:00:00 +0300</pubDate></item>")
        site.put("/rss", body.replace("<item>", extra + "<item>", 1), "application/rss+xml")

    return Harness(cfg, lambda: build_web(cfg, settings, pseudonymize, clock=clock, now=lambda: NOW),
                   lambda c: (c or {}).get("newest") or "", add_more,
                   lambda: site.fail("/rss", 410), lambda: site.fail("/rss", 500, 500, 500))


@pytest.fixture(params=["vk_wall", "vk_search", "tg_channel", "web"])
def harness(request, settings, pseudonymize, clock) -> Harness:
    builder = {"vk_wall": _vk_wall, "vk_search": _vk_search, "tg_channel": _tg, "web": _web}[request.param]
    return builder(request, settings, pseudonymize, clock)


class Watching:
    """A collector wrapper that remembers every page cursor and can stop after `stop_after` pages."""

    def __init__(self, collector, stop_after: int | None = None):
        self.collector, self.source, self.stop_after = collector, collector.source, stop_after
        self.cursors: list[dict | None] = []

    def fetch(self, cursor):
        self.cursors.append(cursor)
        for n, page in enumerate(self.collector.fetch(cursor)):
            if self.stop_after is not None and n == self.stop_after:
                raise Retriable("interrupted (test)", code="test")
            self.cursors.append(page.cursor)
            yield page


def stored(sessions) -> set[tuple]:
    with sessions() as s:
        rows = s.execute(sa.select(Item.source, Item.item_id, Item.kind, Item.parent_id, Item.text, Item.url,
                                   Item.author, Item.published_at))
        return {(r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7].replace(tzinfo=None)) for r in rows}


def item_rows(sessions) -> int:
    with sessions() as s:
        return s.scalar(sa.select(sa.func.count()).select_from(Item))


def poll(sessions, harness: Harness, collector=None):
    return collect_source(sessions, harness.config.key, collector or harness.make(), worker="test")


@pytest.fixture
def reference_sessions(tmp_path):
    """A second, SQLite database for the uninterrupted run."""
    engine = make_engine(f"sqlite:///{tmp_path / 'reference.db'}")
    upgrade(engine)
    yield make_sessionmaker(engine)
    engine.dispose()


def _register(sessions, harness):
    with sessions.begin() as s:
        sync_sources(s, [harness.config])


def _assert_forward(harness, cursors):
    positions = [harness.position(c) for c in cursors]
    assert positions == sorted(positions), positions


def test_interrupted_then_resumed_run_stores_what_one_run_stores(harness, sessions, reference_sessions):
    _register(sessions, harness)
    _register(reference_sessions, harness)
    assert poll(reference_sessions, harness).status == "ok"
    interrupted = Watching(harness.make(), stop_after=1)
    outcome = poll(sessions, harness, interrupted)
    assert outcome.status in ("retry", "ok") and outcome.pages <= 1
    resumed = Watching(harness.make())
    assert poll(sessions, harness, resumed).status == "ok"
    assert stored(sessions) == stored(reference_sessions) and stored(sessions)
    _assert_forward(harness, interrupted.cursors + resumed.cursors)


def test_rerun_stores_no_duplicates_and_new_content_moves_the_cursor(harness, sessions):
    _register(sessions, harness)
    first = poll(sessions, harness)
    assert first.status == "ok" and first.new > 0 and first.requests > 0
    rows = item_rows(sessions)
    again = poll(sessions, harness)
    assert again.status == "ok" and again.new == 0 and again.updated == 0 and item_rows(sessions) == rows
    with sessions() as s:
        before = load_cursor(s, s.scalar(sa.select(Source.id)))
    harness.add_more()
    watching = Watching(harness.make())
    more = poll(sessions, harness, watching)
    assert more.status == "ok" and more.new >= 1 and item_rows(sessions) == rows + more.new
    _assert_forward(harness, [before, *watching.cursors])


def test_fatal_error_disables_only_that_source(harness, sessions):
    other = SourceConfig(key="web:https://example.invalid/other", platform="web", handle="https://example.invalid/o")
    with sessions.begin() as s:
        sync_sources(s, [harness.config, other])
    harness.fail_fatal()
    outcome = poll(sessions, harness)
    assert outcome.status == "disabled" and outcome.error and "\n" not in outcome.error
    with sessions() as s:
        enabled = dict(s.execute(sa.select(Source.key, Source.enabled)).all())
    assert enabled == {harness.config.key: False, other.key: True}


def test_retriable_error_keeps_the_source_and_its_progress(harness, sessions):
    _register(sessions, harness)
    assert poll(sessions, harness).status == "ok"
    with sessions() as s:
        cursor = load_cursor(s, s.scalar(sa.select(Source.id)))
    rows = item_rows(sessions)
    harness.fail_retriable()
    outcome = poll(sessions, harness)
    assert outcome.status == "retry" and outcome.error
    assert outcome.requests > 0  # what the failed poll spent is counted, though no page came out
    with sessions() as s:
        source = s.scalar(sa.select(Source))
        assert source.enabled and source.consecutive_errors == 1
        assert load_cursor(s, source.id) == cursor
        counts = s.scalars(sa.select(Run.counts).order_by(Run.id.desc())).first()
    assert (counts["pages"], counts["requests"], counts["waits"]) == (0, outcome.requests, outcome.waits)
    assert item_rows(sessions) == rows
    with sessions.begin() as s:  # any pause the API asked for (FloodWait) is over
        s.scalar(sa.select(Source)).not_before = None
    assert poll(sessions, harness).status == "ok"
