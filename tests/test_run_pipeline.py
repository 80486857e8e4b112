"""run_pipeline.py: bad input gets one clear line and exit code 2, and loses nothing stored."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

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


def test_secret_in_environment_is_not_logged(tmp_path):
    sources = tmp_path / "sources.toml"
    sources.write_text('[[source]]\ntype = "replay"\nhandle = "missing.jsonl"\n', encoding="utf-8")
    proc = run("--once", "--data-dir", str(tmp_path), "--sources", str(sources), "--log-level", "DEBUG",
               env={"TSUR_VK_TOKEN": "vk1.a.TOPSECRETTOKENVALUE", "TSUR_PSEUDONYM_KEY": "another-secret-key-123"})
    assert "TOPSECRETTOKENVALUE" not in proc.stderr + proc.stdout
    assert "another-secret-key-123" not in proc.stderr + proc.stdout
