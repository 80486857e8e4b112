"""Metrics and health endpoint: counters exposed, database gauges, /healthz red when a loop stalls."""
from __future__ import annotations

import json
import urllib.error
import urllib.request
from datetime import datetime, timezone

from storage.items import save_page
from storage.tables import Source
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
        assert 'tsur_rate_limit_wait_seconds_total{source="vk:wall:-1"} 1.5' in body
        assert 'tsur_items_pending{stage="analyse"} 1.0' in body
        assert "tsur_collector_lag_seconds" in body
        assert 'tsur_source_since_new_item_seconds{source="vk:wall:-1"}' in body
        assert get(base + "/healthz")[0] == 200
        clock.t = 11
        code, body = get(base + "/healthz")
        assert code == 503 and json.loads(body)["loops"]["route"]["stalled"] is True
    finally:
        server.shutdown()
