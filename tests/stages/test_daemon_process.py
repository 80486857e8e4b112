"""run_pipeline.py as a daemon process: serves /metrics and /healthz, works the sample, exits 0 on SIGTERM."""
from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import sqlalchemy as sa

from storage.db import make_engine
from storage.tables import Item

ROOT = Path(__file__).resolve().parents[2]


def test_daemon_process_sigterm(tmp_path):
    env = {**os.environ, "TSUR_ANALYSE_INTERVAL_S": "0.3", "TSUR_ROUTE_INTERVAL_S": "0.3",
           "TSUR_SCHEDULER_JITTER_S": "0", "TSUR_PSEUDONYM_KEY": "test-key-0123456789abcdef"}
    proc = subprocess.Popen([sys.executable, "run_pipeline.py", "--sources", "samples/sources.toml", "--data-dir",
                             str(tmp_path), "--metrics-port", "0", "--log-format", "json"],
                            cwd=ROOT, env=env, stderr=subprocess.PIPE, text=True)
    port = None
    log_lines = []
    try:
        deadline = time.monotonic() + 60
        while port is None and time.monotonic() < deadline:
            line = proc.stderr.readline()
            log_lines.append(line)
            match = re.search(r"/healthz on http://127\.0\.0\.1:(\d+)", line)
            port = int(match.group(1)) if match else None
        assert port, "".join(log_lines)
        engine = make_engine(f"sqlite:///{tmp_path / 'tsur.db'}")
        done = 0
        while time.monotonic() < deadline:
            with engine.connect() as conn:
                done = conn.scalar(sa.select(sa.func.count()).select_from(Item).where(Item.stage == "done"))
            if done == 151:
                break
            time.sleep(0.3)
        assert done == 151
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5) as r:
            assert r.status == 200 and json.loads(r.read())["healthy"] is True
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as r:
            body = r.read().decode()
        assert "tsur_items_analysed_total 151.0" in body and 'tsur_decisions_total{outcome="create"}' in body
        proc.send_signal(signal.SIGTERM)
        _, rest = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, rest[-3000:]
    records = [json.loads(x) for x in (log_lines + rest.splitlines()) if x.strip().startswith("{")]
    messages = [r["msg"] for r in records]
    assert any("stop requested (SIGTERM)" in m for m in messages) and messages[-1] == "daemon stopped"
    assert all(r["run_id"] for r in records)
