"""Deployment: the systemd template unit, and what several daemons on one PostgreSQL must share."""
from __future__ import annotations

import configparser
import logging
import threading
from pathlib import Path

import collectors.pseudonym as pseudonym
from tsur.daemon import Daemon
from tsur.pipeline import Pipeline
from tsur.settings import load_settings

DEPLOY = Path(__file__).resolve().parents[1] / "deploy"


def unit() -> configparser.ConfigParser:
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.optionxform = str
    parser.read(DEPLOY / "tsur-monitor@.service", encoding="utf-8")
    return parser


def test_the_unit_is_a_template_whose_instances_differ_in_port_and_worker_id():
    service = unit()["Service"]
    assert "--metrics-port" not in service["ExecStart"] and "metrics_port =" not in (
        DEPLOY / "tsur.example.toml").read_text(encoding="utf-8")
    assert "%i" in service["Environment"] and "/etc/tsur-monitor/%i.env" in service["EnvironmentFile"]
    assert "TSUR_METRICS_PORT=" in (DEPLOY / "instance.example.env").read_text(encoding="utf-8")
    assert not (DEPLOY / "tsur-monitor.service").exists()


def test_stop_timeout_covers_the_graceful_wait_because_sleeps_are_cut_short():
    settings = load_settings()
    timeout = float(unit()["Service"]["TimeoutStopSec"])
    assert timeout >= 2 * settings.http_timeout_s  # an in-flight request per poll, plus the batch in hand
    assert timeout < settings.tg_flood_wait_max_s  # FloodWait / Retry-After sleeps end on SIGTERM (test_daemon)


def test_daemons_creating_the_key_at_once_end_up_with_one_key(tmp_path, monkeypatch):
    theirs = b"f" * 64
    real = pseudonym.secrets.token_hex

    def another_daemon_wins(n):  # another daemon writes the key between our check and our create
        if not (tmp_path / "pseudonym.key").exists():
            (tmp_path / "pseudonym.key").write_bytes(theirs)
        return real(n)

    monkeypatch.setattr(pseudonym.secrets, "token_hex", another_daemon_wins)
    assert pseudonym.load_key(None, tmp_path) == theirs
    assert [p.name for p in tmp_path.iterdir()] == ["pseudonym.key"]  # no draft left behind


def test_many_daemons_starting_together_share_one_key(tmp_path):
    keys, start = [], threading.Barrier(8)

    def load():
        start.wait()
        keys.append(pseudonym.load_key(None, tmp_path))

    threads = [threading.Thread(target=load) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(keys) == 8 and len(set(keys)) == 1 and len(keys[0]) == 64
    assert (tmp_path / "pseudonym.key").stat().st_mode & 0o777 == 0o600


def start_and_stop(settings) -> None:
    pipeline = Pipeline(settings)
    pipeline.stop.set()  # run() starts, finds the stop already requested, and shuts down
    Daemon(pipeline).run(install_signals=False)


def test_the_daemon_warns_on_postgresql_without_a_shared_pseudonym_key(tmp_path, pg_url, caplog, monkeypatch):
    monkeypatch.delenv("TSUR_PSEUDONYM_KEY", raising=False)
    with caplog.at_level(logging.WARNING, logger="tsur.daemon"):
        start_and_stop(load_settings(database_url=pg_url, data_dir=tmp_path))
    warnings = [r.getMessage() for r in caplog.records if r.name == "tsur.daemon" and r.levelno == logging.WARNING]
    assert any("TSUR_PSEUDONYM_KEY is not set" in w for w in warnings), warnings
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="tsur.daemon"):
        start_and_stop(load_settings(database_url=pg_url, data_dir=tmp_path, pseudonym_key="shared-key-0123456789"))
        start_and_stop(load_settings(data_dir=tmp_path / "sqlite"))  # one embedded database: one key file
    assert not [r for r in caplog.records if "TSUR_PSEUDONYM_KEY" in r.getMessage()]
