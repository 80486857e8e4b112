"""The daemon schedules every stage, and stops cleanly on request, finishing the batch in hand."""
from __future__ import annotations

import json
import logging
import threading
import time
from datetime import datetime, timedelta, timezone

import sqlalchemy as sa

from storage.db import make_engine, make_sessionmaker, upgrade
from storage.items import save_page
from storage.tables import Decision, Item, Run, Source, utcnow
from tests.stages.fakes import EchoAnalyzer
from tsur.daemon import SOURCE_JOB, Daemon, _guarded
from tsur.health import Heartbeats
from tsur.logs import RunId
from tsur.pipeline import Pipeline
from tsur.records import Page, RawItem
from tsur.settings import load_settings
from tsur.stages.analyse import analyse_pending


def write_replay(path, n):
    with open(path, "w", encoding="utf-8") as fh:
        for i in range(n):
            fh.write(json.dumps({"type": "raw_item", "source": "replay:x", "payload": {
                "platform": "vk", "source": "vk:wall:-7", "item_id": str(i),
                "published_at": "2026-11-20T10:00:00+00:00",
                "text": f"В Ялте на ул. Московской {i} нет воды третий день"}}, ensure_ascii=False) + "\n")


def test_daemon_runs_stages_and_stops(tmp_path):
    replay = tmp_path / "items.jsonl"
    write_replay(replay, 40)
    sources = tmp_path / "sources.toml"
    sources.write_text(f'[[source]]\ntype = "replay"\nhandle = "{replay}"\ninterval = 3600\n', encoding="utf-8")
    settings = load_settings(data_dir=tmp_path, sources_file=sources, analyse_interval_s=0.2, route_interval_s=0.2,
                             sla_interval_s=0.5, delivery_interval_s=0.5, scheduler_jitter_s=0, analyse_batch=8)
    pipeline = Pipeline(settings)
    pipeline.analyzer = EchoAnalyzer()
    daemon = Daemon(pipeline)
    thread = threading.Thread(target=daemon.run, kwargs={"install_signals": False})
    thread.start()
    deadline = time.monotonic() + 30
    try:
        while time.monotonic() < deadline:
            with pipeline.sessions() as s:
                done = s.scalar(sa.select(sa.func.count()).select_from(Item).where(Item.stage == "done"))
            if done == 40:
                break
            time.sleep(0.1)
    finally:
        daemon.request_stop("test")
        thread.join(timeout=30)
    assert not thread.is_alive()
    assert done == 40
    assert daemon.heartbeats.status()["healthy"]
    sessions = make_sessionmaker(make_engine(settings.db_url))
    with sessions() as s:
        assert s.scalar(sa.select(sa.func.count()).select_from(Decision)) == 40
        stages = set(s.scalars(sa.select(Run.stage)))
        assert {"collect", "analyse", "route"} <= stages
        assert not list(s.scalars(sa.select(Run).where(Run.status == "running")))


class RunIds(logging.Handler):
    """Keeps (run id, message) of every record, stamped like the daemon's own log handler does."""

    def __init__(self):
        super().__init__(logging.INFO)
        self.addFilter(RunId())
        self.records: list[tuple[str, str]] = []

    def emit(self, record):
        self.records.append((record.run_id, record.getMessage()))

    def __enter__(self):
        root = logging.getLogger()
        self.root_level = root.level
        root.setLevel(logging.INFO)
        root.addHandler(self)
        return self

    def __exit__(self, *exc):
        root = logging.getLogger()
        root.removeHandler(self)
        root.setLevel(self.root_level)


def migrated(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'tsur.db'}")
    upgrade(engine)
    return make_sessionmaker(engine)


def stored_items(sessions, n):
    with sessions.begin() as s:
        src = Source(key="vk:wall:-7", platform="vk", handle="-7")
        s.add(src)
        s.flush()
        at = datetime(2026, 11, 20, tzinfo=timezone.utc)
        save_page(s, src, Page(tuple(RawItem("vk", "vk:wall:-7", str(i), at, f"нет воды {i}") for i in range(n)),
                               None))


def test_a_job_s_run_id_keys_its_runs_row_and_every_log_line(tmp_path):
    sessions = migrated(tmp_path)
    stored_items(sessions, 3)
    job = _guarded("analyse", lambda: analyse_pending(sessions, EchoAnalyzer(), worker="w", batch=2))
    with RunIds() as logs:
        job()
    with sessions() as s:
        (row,) = s.scalars(sa.select(Run).where(Run.stage == "analyse"))
    assert row.counts["items"] == 3
    assert logs.records and {rid for rid, _ in logs.records} == {row.run_id}, (row.run_id, logs.records)


def test_idle_passes_leave_no_runs_rows(tmp_path):
    sessions = migrated(tmp_path)
    for _ in range(3):
        assert analyse_pending(sessions, EchoAnalyzer(), worker="w") == 0
    with sessions() as s:
        assert s.scalar(sa.select(sa.func.count()).select_from(Run)) == 0
    stored_items(sessions, 2)
    analyse_pending(sessions, EchoAnalyzer(), worker="w")
    with sessions() as s:
        assert [(r.stage, r.counts["items"]) for r in s.scalars(sa.select(Run))] == [("analyse", 2)]


class FakeClock:
    t = 0.0

    def __call__(self):
        return self.t


def sample_daemon(tmp_path, n=3, **settings):
    replay = tmp_path / "items.jsonl"
    write_replay(replay, n)
    sources = tmp_path / "sources.toml"
    sources.write_text(f'[[source]]\ntype = "replay"\nhandle = "{replay}"\ninterval = 600\n', encoding="utf-8")
    pipeline = Pipeline(load_settings(data_dir=tmp_path, sources_file=sources, scheduler_jitter_s=0,
                                      stall_after_s=900, **settings))
    pipeline.analyzer = EchoAnalyzer()
    daemon = Daemon(pipeline)
    clock = FakeClock()
    daemon.heartbeats = Heartbeats(900, clock=clock)
    daemon.schedule()  # jobs are added, the scheduler is not started: the test runs them itself
    return daemon, clock


def test_a_long_analyse_pass_stays_healthy_while_it_stores_batches(tmp_path):
    daemon, clock = sample_daemon(tmp_path, n=10, analyse_batch=2)
    daemon.scheduler.get_job("sources").func()
    daemon.scheduler.get_job(SOURCE_JOB + "replay:" + str(tmp_path / "items.jsonl")).func()
    stalled = []

    class SlowAnalyzer(EchoAnalyzer):
        def analyze(self, inputs):
            clock.t += 400  # each batch takes 400 s: the pass takes 2000 s, over stall_after_s
            stalled.append(daemon.heartbeats.status()["loops"]["analyse"]["stalled"])
            return super().analyze(inputs)

    daemon.pipeline.analyzer = SlowAnalyzer()
    daemon.scheduler.get_job("analyse").func()
    assert stalled == [False] * 5
    clock.t += 1000  # no progress since (the next pass raised, or hangs): stalled
    assert daemon.heartbeats.status()["loops"]["analyse"]["stalled"]


def test_the_collect_loop_is_stalled_only_while_sources_are_due_and_no_poll_finishes(tmp_path):
    daemon, clock = sample_daemon(tmp_path)
    daemon.refresh_sources()
    sessions, loops = daemon.pipeline.sessions, lambda: daemon.heartbeats.status()["loops"]
    key = "replay:" + str(tmp_path / "items.jsonl")
    clock.t = 1000
    assert not loops()["collect"]["stalled"]  # the source is due only since the daemon started
    with sessions.begin() as s:
        s.execute(sa.update(Source).values(last_attempt_at=utcnow() - timedelta(hours=2)))
    daemon.refresh_sources()  # the sources loop, every minute
    assert loops()["collect"]["stalled"]  # due for over an hour and no poll finished
    daemon.scheduler.get_job(SOURCE_JOB + key).func()
    assert not loops()["collect"]["stalled"]
    clock.t = 3000
    with sessions.begin() as s:  # polled long ago, but its API asked for a pause (FloodWait, Retry-After)
        s.execute(sa.update(Source).values(last_attempt_at=utcnow() - timedelta(hours=2),
                                           not_before=utcnow() + timedelta(hours=1)))
    daemon.refresh_sources()
    assert not loops()["collect"]["stalled"]


class SleepyCollector:
    """Stores one page, then sleeps like a long FloodWait or Retry-After would."""

    def __init__(self, source, sleep):
        self.source, self.sleep = source, sleep

    def fetch(self, cursor):
        at = datetime(2026, 11, 20, tzinfo=timezone.utc)
        yield Page((RawItem("web", self.source.key, "1", at, "нет воды"),), {"n": 1})
        self.sleep(300)
        yield Page((RawItem("web", self.source.key, "2", at, "нет света"),), {"n": 2})


def test_a_stop_cuts_a_collector_s_sleep_short(tmp_path, monkeypatch):
    from collectors.ratelimit import WALL_CLOCK

    pipeline = Pipeline(load_settings(data_dir=tmp_path))
    with pipeline.sessions.begin() as s:
        s.add(Source(key="web:https://slow.example/rss", platform="web", handle="https://slow.example/rss"))
    monkeypatch.setattr("tsur.pipeline.build_collector", lambda config, *a: SleepyCollector(config, WALL_CLOCK.sleep))
    Daemon(pipeline).request_stop("test")
    outcomes = []
    thread = threading.Thread(target=lambda: outcomes.append(pipeline.collect("web:https://slow.example/rss")),
                              daemon=True)
    thread.start()
    thread.join(timeout=60)  # a bound for the failure case only (it would sleep 300 s)
    assert not thread.is_alive()
    (outcome,) = outcomes
    assert (outcome.status, outcome.code, outcome.pages, outcome.new) == ("retry", "stopping", 1, 1)


def test_a_stop_cuts_a_telegram_flood_wait_short(tmp_path):
    from telethon import errors

    from collectors import hooks
    from collectors.base import SourceConfig
    from collectors.telegram import build
    from tests.collectors.fake_tg import FakeTelegram

    fake = FakeTelegram(linked_chat_id=None)
    fake.post(1, time.time() - 60, "Отключение воды")
    fake.fail_next(errors.FloodWaitError(request=None, capture=200))
    config = SourceConfig(key="tg:channel:simf_news", platform="tg", handle="simf_news", options={"type": "tg_channel"})
    collector = build(config, load_settings(data_dir=tmp_path), lambda *a: None, make_client=lambda: fake)
    stop, raised = threading.Event(), []
    stop.set()

    def poll():
        with hooks.polling(config.key, stop=stop):
            try:
                list(collector.fetch(None))
            except Exception as exc:  # noqa: BLE001 - the test looks at it
                raised.append(exc)

    thread = threading.Thread(target=poll, daemon=True)
    thread.start()
    thread.join(timeout=60)  # a bound for the failure case only (it would sleep 200 s)
    assert not thread.is_alive() and raised and getattr(raised[0], "code", None) == "stopping"


def test_busy_loops_skipped_ticks_are_not_logged(tmp_path, caplog):
    Daemon(Pipeline(load_settings(data_dir=tmp_path)))
    scheduler_log = logging.getLogger("apscheduler.scheduler")
    with caplog.at_level(logging.WARNING):
        scheduler_log.warning('Execution of job "%s" skipped: maximum number of running instances reached (%d)',
                              "analyse (trigger: interval[0:00:05])", 1)
        scheduler_log.warning("Scheduler has been shut down")
    assert [r.getMessage() for r in caplog.records if r.name == scheduler_log.name] == ["Scheduler has been shut down"]


def test_a_stop_during_a_sources_refresh_does_not_deadlock_the_shutdown(tmp_path, monkeypatch):
    from apscheduler.schedulers.base import STATE_STOPPED

    pipeline = Pipeline(load_settings(data_dir=tmp_path))
    pipeline.analyzer = EchoAnalyzer()
    syncing, release = threading.Event(), threading.Event()
    real_sync = pipeline.sync_sources

    def slow_sync():
        syncing.set()
        release.wait(30)
        return real_sync()

    monkeypatch.setattr(pipeline, "sync_sources", slow_sync)
    daemon = Daemon(pipeline)
    thread = threading.Thread(target=daemon.run, kwargs={"install_signals": False}, daemon=True)
    thread.start()
    assert syncing.wait(30)
    daemon.request_stop("test")
    deadline = time.monotonic() + 30
    while daemon.scheduler.state != STATE_STOPPED and time.monotonic() < deadline:
        time.sleep(0.01)
    release.set()  # the refresh goes on to its jobs while the scheduler shuts down
    thread.join(timeout=30)
    assert not thread.is_alive()


def test_analysis_and_decision_metrics_move_with_each_stored_batch(tmp_path):
    daemon, _ = sample_daemon(tmp_path, n=6, analyse_batch=2, route_batch=2)
    daemon.refresh_sources()
    daemon.scheduler.get_job(SOURCE_JOB + "replay:" + str(tmp_path / "items.jsonl")).func()
    pipeline, value = daemon.pipeline, daemon.pipeline.metrics.registry.get_sample_value
    seen = []

    class Watching(EchoAnalyzer):
        def analyze(self, inputs):
            seen.append(value("tsur_items_analysed_total"))
            return super().analyze(inputs)

    pipeline.analyzer = Watching()
    assert pipeline.analyse() == 6 and pipeline.route()
    assert seen == [0, 2, 4]  # counted as each batch is stored, not when the pass ends
    assert value("tsur_analysis_latency_seconds_count") == 6
    assert value("tsur_decision_latency_seconds_count", {"since": "seen"}) == 6
    published = value("tsur_decision_latency_seconds_sum", {"since": "published"})
    assert published > value("tsur_decision_latency_seconds_sum", {"since": "seen"})  # published days earlier
    assert sum(value("tsur_decisions_total", {"outcome": o}) or 0 for o in ("create", "attach", "review", "ignore")) == 6
