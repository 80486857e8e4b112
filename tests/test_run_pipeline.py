"""run_pipeline.py: bad input gets one clear line and exit code 2, and loses nothing stored."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa

from tests.collectors.fake_vk import FakeVk, FakeVkServer

ROOT = Path(__file__).resolve().parents[1]


def run(*args, env=None):
    import os

    return subprocess.run([sys.executable, str(ROOT / "run_pipeline.py"), *args], cwd=ROOT, capture_output=True,
                          text=True, timeout=120, env={**os.environ, **(env or {})})


def one_line_error(proc) -> str:
    assert proc.returncode == 2, proc.stderr[-2000:]
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), proc.stderr[-2000:]
    assert "Traceback" not in proc.stderr
    return lines[0]


def test_database_unreachable(tmp_path):
    line = one_line_error(run("--once", "--data-dir", str(tmp_path),
                              "--database-url", "postgresql+psycopg://nobody@127.0.0.1:1/none"))
    assert "unreachable" in line and "127.0.0.1:1" in line


@pytest.mark.parametrize("body, expected", [
    ('[[source]]\ntype = "vk_wall"\n', r"sources.toml:1: source #1: handle"),
    ('[[source]\n', r"sources.toml: "),
])
def test_malformed_sources_file(tmp_path, body, expected):
    import re

    sources = tmp_path / "sources.toml"
    sources.write_text(body, encoding="utf-8")
    line = one_line_error(run("--once", "--data-dir", str(tmp_path), "--sources", str(sources)))
    assert re.search(expected, line), line


def test_malformed_config_file(tmp_path):
    cfg = tmp_path / "tsur.toml"
    cfg.write_text("[tsur]\nanalyse_batch = -\n", encoding="utf-8")
    line = one_line_error(run("--once", "--config", str(cfg)))
    assert "tsur.toml" in line and "line 2" in line


class EchoingVk(FakeVk):
    """A VK fake whose error messages echo the token of the request, as a careless gateway would."""

    def _error(self, code: int, method: str, params: dict) -> dict:
        error = super()._error(code, method, params)
        error["error_msg"] += f" (token {params.get('access_token')} for {method})"
        return error


def database_text(db: Path) -> str:
    """Every value of every table of a SQLite database, as one string."""
    engine = sa.create_engine(f"sqlite:///{db}")
    with engine.connect() as conn:
        tables = sa.inspect(conn).get_table_names()
        rows = [repr(tuple(r)) for t in tables for r in conn.execute(sa.text(f'SELECT * FROM "{t}"'))]
    engine.dispose()
    return "\n".join(rows)


def test_a_secret_echoed_by_a_failing_api_reaches_no_log_and_no_column(tmp_path):
    token, key = "TOPSECRETTOKENVALUE-7f3a9c", "another-secret-key-123"
    fake = EchoingVk(token=token, rps=None)
    fake.fail("wall.get", 5)  # the first wall: auth failed -> disabled; the second: bad request -> retry
    fake.fail("wall.get", 100)
    with FakeVkServer(fake) as url:
        sources = tmp_path / "sources.toml"
        sources.write_text("".join(f'[[source]]\ntype = "vk_wall"\nhandle = "-{n}"\noptions = {{ api_base = "{url}" }}\n'
                                   for n in (1, 2)), encoding="utf-8")
        proc = run("--once", "--data-dir", str(tmp_path), "--sources", str(sources), "--log-level", "DEBUG",
                   env={"TSUR_VK_TOKEN": token, "TSUR_PSEUDONYM_KEY": key})
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert [p.get("access_token") for _, p in fake.log] == [token, token]  # the secret did flow
    stored = database_text(tmp_path / "tsur.db")
    assert "VK error 5" in stored and "VK error 100" in stored and "(token *** for wall.get)" in stored
    for secret in (token, key):
        assert secret not in proc.stderr + proc.stdout
        assert secret not in stored
