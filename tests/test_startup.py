"""The daemon's start: whatever is wrong (config values, rules, models, gazetteer, data dir, database URL,
metrics port, sources) is one `error: …` line and exit code 2 before any stage runs; a bug is one line too."""
from __future__ import annotations

import json
import re
import shutil
import socket
import sqlite3
from pathlib import Path

import pytest

from tests.test_run_pipeline import ROOT, one_line_error, run


def replay_sources(tmp_path: Path, home: str | None = None) -> Path:
    """A sources file with one replay source of three complaints (and `home` as its home_municipality)."""
    replay = tmp_path / "r.jsonl"
    with open(replay, "w", encoding="utf-8") as fh:
        for i in range(3):
            fh.write(json.dumps({"type": "raw_item", "payload": {
                "platform": "replay", "source": f"replay:{replay}", "item_id": str(i),
                "published_at": "2026-11-20T10:00:00+03:00", "text": f"Нет воды в Ялте уже {i} дня, помогите"}},
                ensure_ascii=False) + "\n")
    sources = tmp_path / "sources.toml"
    home_line = f'home_municipality = "{home}"\n' if home else ""
    sources.write_text(f'[[source]]\ntype = "replay"\nhandle = "{replay}"\n{home_line}', encoding="utf-8")
    return sources


def stored(data_dir: Path) -> list[str]:
    """The tables of the SQLite database in `data_dir` (none: not even the schema was created)."""
    if not (data_dir / "tsur.db").exists():
        return []
    with sqlite3.connect(data_dir / "tsur.db") as conn:
        return [name for (name,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]


def broken_rules(tmp_path: Path) -> Path:
    """A copy of config/ whose routing rules have an error (found by `tsur routing check`)."""
    config = tmp_path / "config"
    shutil.copytree(ROOT / "config", config, ignore=shutil.ignore_patterns("sources.toml"))
    with open(config / "routing_rules.csv", "a", encoding="utf-8") as fh:
        fh.write("bogus,,,,,,no agency\n")
    return config


def test_unknown_home_municipality_stops_the_start(tmp_path):
    sources = replay_sources(tmp_path, "городской округ Ялтаа")
    line = one_line_error(run("--once", "--data-dir", str(tmp_path / "data"), "--sources", str(sources)))
    assert f"{sources}:1: source #1: unknown home_municipality 'городской округ Ялтаа'" in line
    assert "did you mean 'городской округ Ялта'" in line
    assert not stored(tmp_path / "data")  # nothing ran


@pytest.mark.parametrize("case, args, env, expected", [
    ("rules", [], {"TSUR_CONFIG_DIR": "{config}"}, r"routing_rules.csv:\d+: rule 'bogus' has no agency"),
    ("model", [], {"TSUR_MODEL_VERSION": "nope"}, r"models/nope: no meta.json"),
    ("psycopg2", ["--database-url", "postgresql://tsur@127.0.0.1/tsur"], {},
     r"^error: --database-url: setting database_url: .*psycopg2 is not installed; use postgresql\+psycopg://"),
    ("not a url", ["--database-url", "not a url"], {}, r"setting database_url: not a database URL"),
    ("dialect", ["--database-url", "foo://bar"], {}, r"setting database_url: unknown database kind 'foo'"),
    ("key", [], {"TSUR_PSEUDONYM_KEY": "short"}, r"TSUR_PSEUDONYM_KEY: .*at least 16 bytes"),
    ("log level", ["--log-level", "bogus"], {}, r"setting log_level: unknown log level 'bogus'"),
    ("port range", [], {"TSUR_METRICS_PORT": "99999"}, r"TSUR_METRICS_PORT: setting metrics_port: .*65535"),
    ("region", [], {"TSUR_REGION": "atlantis"}, r"regions/atlantis/places.csv: file not found"),
])
def test_bad_start_is_one_line_before_any_stage(tmp_path, case, args, env, expected):
    """Whatever is wrong, the daemon says so in one line and exits 2 before collecting anything."""
    env = {k: v.format(config=broken_rules(tmp_path)) if "{config}" in v else v for k, v in env.items()}
    data = tmp_path / "data"
    line = one_line_error(run("--once", "--data-dir", str(data), "--sources", str(replay_sources(tmp_path)),
                              *args, env=env))
    assert re.search(expected, line), line
    assert not stored(data), "a stage ran before the error"


def test_data_dir_that_is_a_file(tmp_path):
    (tmp_path / "data").write_text("not a folder")
    line = one_line_error(run("--once", "--data-dir", str(tmp_path / "data")))
    assert line == f"error: data_dir {tmp_path / 'data'}: exists and is not a directory"


def test_metrics_port_in_use(tmp_path):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        line = one_line_error(run("--data-dir", str(tmp_path), "--metrics-port", str(port),
                                  "--sources", str(replay_sources(tmp_path))))
    assert f"metrics_port {port} on 127.0.0.1: cannot listen: Address already in use" in line
    assert not stored(tmp_path)


def test_missing_sources_file(tmp_path):
    line = one_line_error(run("--once", "--data-dir", str(tmp_path), "--sources", str(tmp_path / "none.toml")))
    assert line == f"error: {tmp_path / 'none.toml'}: sources file not found (named by --sources or sources_file)"


def test_unexpected_error_is_one_line_with_the_traceback_at_debug(tmp_path, monkeypatch, capsys):
    import run_pipeline
    import tsur.startup
    from tsur.logs import setup_logging

    class Boom(Exception):
        pass

    def explode(settings, **_):
        raise Boom("the disk caught fire")

    monkeypatch.setattr(tsur.startup, "start_pipeline", explode)
    assert run_pipeline.main(["--once", "--data-dir", str(tmp_path), "--log-level", "WARNING"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["error: unexpected Boom: the disk caught fire (--log-level DEBUG shows the traceback)"]
    assert run_pipeline.main(["--once", "--data-dir", str(tmp_path), "--log-level", "DEBUG"]) == 1
    err = capsys.readouterr().err
    assert "Traceback" in err and "explode" in err and err.rstrip().endswith("shows the traceback)")
    setup_logging("WARNING")


def test_missing_default_sources_file_is_said_once(tmp_path, caplog):
    from tsur.pipeline import Pipeline
    from tsur.settings import load_settings

    pipeline = Pipeline(load_settings(data_dir=tmp_path, config_dir=tmp_path / "config"))
    with caplog.at_level("INFO", logger="tsur.pipeline"):
        assert pipeline.sync_sources() == {"added": 0, "changed": 0}
        pipeline.sync_sources()
    pipeline.close()
    said = [r.getMessage() for r in caplog.records if "no sources file" in r.getMessage()]
    assert len(said) == 1 and str(tmp_path / "config" / "sources.toml") in said[0], said


def test_a_source_not_configured_is_enabled_again_once_it_is(tmp_path, monkeypatch, caplog):
    """No VK token, a replay file not there yet: both disabled as not configured; with the token and the file
    the next start enables both, one log line each; an operator's switch-off stays."""
    import sqlalchemy as sa

    from storage.tables import Source
    from tsur.pipeline import Pipeline
    from tsur.settings import load_settings

    monkeypatch.delenv("TSUR_VK_TOKEN", raising=False)
    replay = tmp_path / "later.jsonl"
    sources = tmp_path / "sources.toml"
    sources.write_text(f'[[source]]\ntype = "vk_wall"\nhandle = "-5"\n\n[[source]]\ntype = "replay"\n'
                       f'handle = "{replay}"\n\n[[source]]\ntype = "vk_wall"\nhandle = "-6"\n', encoding="utf-8")
    keys = ["vk:wall:-5", f"replay:{replay}", "vk:wall:-6"]
    settings = dict(data_dir=tmp_path, sources_file=sources, pseudonym_key="k" * 16)
    first = Pipeline(load_settings(**settings))
    first.sync_sources()
    assert [first.collect(k).status for k in keys] == ["disabled"] * 3
    with first.sessions.begin() as s:
        s.scalar(sa.select(Source).where(Source.key == keys[2])).disabled_reason = "noisy (ops)"
    first.close()
    replay.write_text("", encoding="utf-8")
    again = Pipeline(load_settings(**settings, vk_token="vk1.a.now-it-is-set"))
    with caplog.at_level("INFO", logger="storage.sources"):
        again.sync_sources()
        again.sync_sources()
    with again.sessions() as s:
        state = dict(s.execute(sa.select(Source.key, Source.enabled)).all())
    again.close()
    assert [state[k] for k in keys] == [True, True, False]
    lines = [r.getMessage() for r in caplog.records if "enabled again" in r.getMessage()]
    assert len(lines) == 2 and all("not configured" in line for line in lines), lines
    assert "now-it-is-set" not in " ".join(lines)


def test_a_bad_delivery_target_stops_the_start(tmp_path):
    """An e-mail target with CRLF used to be accepted and then abort every delivery pass."""
    config = tmp_path / "config"
    shutil.copytree(ROOT / "config", config, ignore=shutil.ignore_patterns("sources.toml"))
    with open(config / "delivery.toml", "a", encoding="utf-8") as fh:
        fh.write('[[channel]]\nagency = "ГУП РК «Вода Крыма»"\nemail = "a@example.org\\r\\nBcc: b@example.org"\n')
    data = tmp_path / "data"
    line = one_line_error(run("--once", "--data-dir", str(data), "--sources", str(replay_sources(tmp_path)),
                              env={"TSUR_CONFIG_DIR": str(config)}))
    assert "delivery.toml: [[channel]] #1 (ГУП РК «Вода Крыма»): email" in line and "control characters" in line
    assert not stored(data), "a stage ran before the error"
