"""run_pipeline.py --once: one pass under one run id, retention included when it is configured."""
from __future__ import annotations

import sqlalchemy as sa

import run_pipeline
from storage.tables import Run
from tests.stages.fakes import EchoAnalyzer
from tests.stages.test_daemon import RunIds, write_replay
from tsur.pipeline import Pipeline
from tsur.settings import load_settings


def once_settings(tmp_path, **overrides):
    tmp_path.mkdir(exist_ok=True)
    replay = tmp_path / "items.jsonl"
    write_replay(replay, 5)
    sources = tmp_path / "sources.toml"
    sources.write_text(f'[[source]]\ntype = "replay"\nhandle = "{replay}"\n', encoding="utf-8")
    return load_settings(data_dir=tmp_path, sources_file=sources, pseudonym_key="test-key-0123456789abcdef",
                         **overrides)


def test_once_gives_its_runs_rows_and_every_log_line_of_the_pass_one_run_id(tmp_path, monkeypatch):
    monkeypatch.setattr(Pipeline, "analyzer", EchoAnalyzer())
    settings = once_settings(tmp_path)
    with RunIds() as logs:
        assert run_pipeline.run(settings, once=True) == 0
    pipeline = Pipeline(settings, migrate=False)
    with pipeline.sessions() as s:
        rows = list(s.execute(sa.select(Run.stage, Run.run_id)))
    pipeline.close()
    assert {stage for stage, _ in rows} == {"collect", "analyse", "route"}
    (run_id,) = {rid for _, rid in rows}
    start = next(i for i, (rid, _) in enumerate(logs.records) if rid != "-")  # before: start-up (migrations)
    in_pass = logs.records[start:]
    messages = [m for _, m in in_pass]
    assert any(m.startswith("collected replay:") for m in messages) and any("analysed 5" in m for m in messages)
    assert {rid for rid, _ in in_pass} == {run_id}, in_pass


def test_once_runs_retention_when_retention_days_is_set(tmp_path, monkeypatch):
    import storage.retention

    monkeypatch.setattr(Pipeline, "analyzer", EchoAnalyzer())
    calls = []
    monkeypatch.setattr(storage.retention, "purge", lambda session, now, days: calls.append(days) or 0)
    pipeline = Pipeline(once_settings(tmp_path, retention_days=30))
    assert pipeline.run_once()["retained"] == 0 and calls == [30]
    pipeline.close()
    pipeline = Pipeline(once_settings(tmp_path / "off"))
    assert pipeline.run_once()["retained"] == 0 and calls == [30]  # unset: no purge
    pipeline.close()
