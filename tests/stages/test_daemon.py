"""The daemon schedules every stage, and stops cleanly on request, finishing the batch in hand."""
from __future__ import annotations

import json
import logging
import threading
import time
from datetime import datetime, timezone

import sqlalchemy as sa

from storage.db import make_engine, make_sessionmaker, upgrade
from storage.items import save_page
from storage.tables import Decision, Item, Run, Source
from tests.stages.fakes import EchoAnalyzer
from tsur.daemon import Daemon, _guarded
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
        self.root_level, root.level = root.level, logging.INFO
        root.addHandler(self)
        return self

    def __exit__(self, *exc):
        root = logging.getLogger()
        root.removeHandler(self)
        root.level = self.root_level


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

