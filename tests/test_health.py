"""Metrics and health endpoint: counters exposed, database gauges, /healthz red when a loop stalls."""
from __future__ import annotations

import json
import urllib.error
import urllib.request
from datetime import datetime, timedelta, timezone

import sqlalchemy as sa

from collectors import hooks
from collectors.base import SourceConfig
from collectors.pseudonym import Pseudonymizer
from collectors.ratelimit import SimulatedClock
from collectors.web import WebCollector
from storage.items import save_page
from storage.tables import Item, Source, utcnow
from tests.collectors.web_server import FakeSite, SiteServer
from tsur.health import Heartbeats, serve
from tsur.metrics import PipelineMetrics
from tsur.records import Page, RawItem
from tsur.stages.collect import CollectOutcome


class Clock:
    t = 0.0

    def __call__(self):
        return self.t


def get(url):
    try:
        with urllib.request.urlopen(url, timeout=5) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


def test_heartbeats_stall():
    clock = Clock()
    hb = Heartbeats(stall_after=60, clock=clock)
    hb.watch("analyse")
    clock.t = 30
    assert hb.status()["healthy"]
    hb.record_error("analyse", "database unreachable")
    clock.t = 61
    status = hb.status()
    assert not status["healthy"] and status["loops"]["analyse"]["last_error"] == "database unreachable"
    hb.beat("analyse")
    assert hb.status()["healthy"]


def test_metrics_and_health_endpoints(sessions):
    with sessions.begin() as s:
        src = Source(key="vk:wall:-1", platform="vk", handle="-1")
        s.add(src)
        s.flush()
        save_page(s, src, Page((RawItem("vk", "vk:wall:-1", "1", datetime(2026, 11, 20, tzinfo=timezone.utc), "x"),),
                               None))
    metrics = PipelineMetrics(sessions)
    metrics.observe_collect(CollectOutcome("vk:wall:-1", "retry", new=3, requests=4, waits=1.5, code="6"))
    metrics.api_retry("vk:wall:-1", "6", 1.5)
    clock = Clock()
    hb = Heartbeats(stall_after=10, clock=clock)
    hb.watch("route")
    server = serve("127.0.0.1", 0, metrics.registry, hb)
    base = f"http://127.0.0.1:{server.server_port}"
    try:
        code, body = get(base + "/metrics")
        assert code == 200
        assert 'tsur_items_collected_total{source="vk:wall:-1"} 3.0' in body
        assert 'tsur_collector_errors_total{code="6",source="vk:wall:-1"} 1.0' in body
        assert 'tsur_rate_limit_wait_seconds_total{code="6",source="vk:wall:-1"} 1.5' in body
        assert 'tsur_api_retries_total{code="6",source="vk:wall:-1"} 1.0' in body
        assert 'tsur_items_pending{stage="analyse"} 1.0' in body
        assert "tsur_collector_lag_seconds" in body
        assert 'tsur_source_since_new_item_seconds{source="vk:wall:-1"}' in body
        assert get(base + "/healthz")[0] == 200
        clock.t = 11
        code, body = get(base + "/healthz")
        assert code == 503 and json.loads(body)["loops"]["route"]["stalled"] is True
    finally:
        server.shutdown()


def test_a_loop_may_be_quiet_for_its_own_interval():
    clock = Clock()
    hb = Heartbeats(stall_after=900, clock=clock)
    hb.watch("retention", every=3600)
    hb.passed("retention")
    clock.t = 1000  # between two hourly passes: not a stall
    assert hb.status()["healthy"]
    clock.t = 3600 + 901
    assert not hb.status()["healthy"]


def test_a_loop_is_only_stalled_while_work_is_due():
    clock, due = Clock(), {"now": False}
    hb = Heartbeats(stall_after=60, clock=clock)
    hb.watch("collect", due=lambda: due["now"])
    clock.t = 500  # no poll finished, but no source is due either (long intervals, or paused by their API)
    assert hb.status()["healthy"]
    due["now"] = True
    assert hb.status()["loops"]["collect"]["stalled"]
    hb.beat("collect")
    assert hb.status()["healthy"]


def sample(metrics, name, **labels):
    return metrics.registry.get_sample_value(name, labels) or 0.0


def test_retries_and_waits_are_counted_by_code_as_they_happen():
    site = FakeSite()
    site.put("/rss", "<rss><channel></channel></rss>", "application/rss+xml")
    site.fail("/rss", 503, 503)
    metrics = PipelineMetrics()
    with SiteServer(site) as base:
        key = f"web:{base}/rss"
        collector = WebCollector(SourceConfig(key, "web", f"{base}/rss", kind="web"), Pseudonymizer(b"k" * 16),
                                 clock=SimulatedClock())
        with hooks.polling(key, sink=metrics):
            pages = list(collector.fetch(None))
    assert len(pages) == 1  # the poll succeeded on the third try: no poll error, but two retried 503s
    assert sample(metrics, "tsur_api_retries_total", source=key, code="http_503") == 2
    assert sample(metrics, "tsur_rate_limit_wait_seconds_total", source=key, code="http_503") == 2 + 4
    assert sample(metrics, "tsur_collector_errors_total", source=key, code="http_503") == 0


def test_collector_lag_is_time_since_the_last_successful_poll(sessions):
    now = utcnow()
    with sessions.begin() as s:
        quiet = Source(key="web:quiet", platform="web", handle="https://quiet.example", created_at=now - timedelta(days=30),
                       last_success_at=now - timedelta(seconds=120), last_new_item_at=now - timedelta(days=10))
        s.add(quiet)
        s.flush()
        save_page(s, quiet, Page((RawItem("web", "web:quiet", "1", now - timedelta(days=10), "old news"),), None),
                  now=now - timedelta(days=10))
    metrics = PipelineMetrics(sessions)
    lag = sample(metrics, "tsur_collector_lag_seconds", source="web:quiet")
    assert 120 <= lag < 600  # polls fine, nothing new: not lagging
    assert sample(metrics, "tsur_source_since_new_item_seconds", source="web:quiet") >= 10 * 86400


def test_pending_gauge_leaves_out_done_items_and_scrapes_read_no_whole_items_table(sessions, engine):
    with sessions.begin() as s:
        src = Source(key="vk:wall:-1", platform="vk", handle="-1")
        s.add(src)
        s.flush()
        at = datetime(2026, 11, 20, tzinfo=timezone.utc)
        save_page(s, src, Page(tuple(RawItem("vk", "vk:wall:-1", str(i), at, f"x{i}") for i in range(3)), None))
        s.execute(sa.update(Item).where(Item.item_id == "0").values(stage="done"))
    statements = []
    sa.event.listen(engine, "before_cursor_execute", lambda *a: statements.append(a[2]))
    metrics = PipelineMetrics(sessions)
    assert sample(metrics, "tsur_items_pending", stage="analyse") == 2
    assert metrics.registry.get_sample_value("tsur_items_pending", {"stage": "route"}) == 0
    assert metrics.registry.get_sample_value("tsur_items_pending", {"stage": "done"}) is None
    on_items = [sql for sql in statements if "FROM items" in sql]
    assert on_items and all("items.stage IN" in sql for sql in on_items), on_items


def test_vk_retries_in_calls_and_inside_execute_are_counted_by_code():
    from tests.collectors.fake_vk import FakeVk, FakeVkServer
    from tests.collectors.vk_world import populate_wall, vk_collector, wall_config
    from tsur.settings import Settings

    clock, now = SimulatedClock(start=1000.0), 1_763_900_000
    fake = FakeVk(token="test-token", clock=clock)
    populate_wall(fake, -100, now, posts=6, every_s=3600)  # commented posts: their comments come in one execute
    fake.fail("wall.get", 6, 6)
    fake.fail("wall.getComments", 10)
    metrics = PipelineMetrics()
    settings = Settings(vk_token="test-token", vk_lookback_s=3 * 86400)
    with FakeVkServer(fake) as url:
        collector = vk_collector(wall_config(-100, url), settings, Pseudonymizer(b"k" * 16), clock, now)
        with hooks.polling("vk:wall:-100", sink=metrics):
            items = [i for page in collector.fetch(None) for i in page.items]
    assert len(items) == 6 + 6
    assert sample(metrics, "tsur_api_retries_total", source="vk:wall:-100", code="6") == 2
    assert sample(metrics, "tsur_api_retries_total", source="vk:wall:-100", code="10") == 1
    assert sample(metrics, "tsur_rate_limit_wait_seconds_total", source="vk:wall:-100", code="6") == 1 + 2
    assert sample(metrics, "tsur_rate_limit_wait_seconds_total", source="vk:wall:-100", code="pacing") > 0
