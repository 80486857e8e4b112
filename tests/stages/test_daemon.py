"""The daemon schedules every stage, and stops cleanly on request, finishing the batch in hand."""
from __future__ import annotations

import json
import threading
import time

import sqlalchemy as sa

from storage.tables import Decision, Item, Run
from tests.stages.fakes import EchoAnalyzer
from tsur.daemon import Daemon
from tsur.pipeline import Pipeline
from tsur.settings import load_settings


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
    from storage.db import make_engine, make_sessionmaker

    sessions = make_sessionmaker(make_engine(settings.db_url))
    with sessions() as s:
        assert s.scalar(sa.select(sa.func.count()).select_from(Decision)) == 40
        stages = set(s.scalars(sa.select(Run.stage)))
        assert {"collect", "analyse", "route"} <= stages
        assert not list(s.scalars(sa.select(Run).where(Run.status == "running")))
