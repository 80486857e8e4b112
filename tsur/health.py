"""A small local HTTP server: /metrics for Prometheus and /healthz that fails when a loop stalls."""
from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from prometheus_client import CONTENT_TYPE_LATEST, generate_latest


@dataclass
class _Loop:
    every: float  # the loop's own interval: an idle loop is quiet this long between passes
    due: Callable[[], bool] | None  # whether work is waiting (None: always expected to beat)
    progress_at: float
    errors: int = 0
    last_error: str | None = None


class Heartbeats:
    """When each loop last made progress; one silent for its interval plus `stall_after` is stalled.

    Progress is a stored batch (`beat`), a completed pass (`passed`, also an idle one) or, for the collect
    loop, a finished poll of any source. A pass that raised (`record_error`) is no progress: a loop that
    keeps failing, or hangs, goes silent and turns red. A loop watched with `due` is only stalled while
    `due()` says work is waiting (collect: a source has been due for longer than stall_after).
    """

    def __init__(self, stall_after: float, clock=time.monotonic):
        self.stall_after, self.clock = stall_after, clock
        self._loops: dict[str, _Loop] = {}
        self._lock = threading.Lock()

    def watch(self, loop: str, every: float = 0.0, due: Callable[[], bool] | None = None) -> None:
        """Start expecting progress from `loop` (counts from now)."""
        with self._lock:
            self._loops.setdefault(loop, _Loop(every, due, self.clock()))

    def beat(self, loop: str) -> None:
        """`loop` made progress (a batch committed, a poll finished); a pass may still be running."""
        with self._lock:
            if loop in self._loops:
                self._loops[loop].progress_at = self.clock()

    def passed(self, loop: str) -> None:
        """`loop` completed a pass without error."""
        with self._lock:
            if loop in self._loops:
                state = self._loops[loop]
                state.progress_at, state.errors, state.last_error = self.clock(), 0, None

    def record_error(self, loop: str, message: str) -> None:
        """`loop`'s pass raised (no progress: one that keeps failing goes silent -> stalled)."""
        with self._lock:
            if loop in self._loops:
                state = self._loops[loop]
                state.errors, state.last_error = state.errors + 1, message

    def status(self) -> dict:
        now = self.clock()
        with self._lock:
            loops = dict(self._loops)
        report = {}
        for name, state in loops.items():
            silent = now - state.progress_at
            stalled = silent > state.every + self.stall_after and (state.due is None or _due(state.due))
            report[name] = {"seconds_since_progress": round(silent, 1), "stalled": stalled,
                            "failed_passes": state.errors, "last_error": state.last_error}
        return {"healthy": not any(v["stalled"] for v in report.values()), "loops": report}


def _due(probe: Callable[[], bool]) -> bool:
    """A probe that cannot answer (database down) counts as work waiting."""
    try:
        return bool(probe())
    except Exception:  # noqa: BLE001 - health must answer; the other loops report the cause
        return True


def serve(host: str, port: int, registry, heartbeats: Heartbeats) -> ThreadingHTTPServer:
    """Start the server in a daemon thread; returns it (call .shutdown() to stop)."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 - http.server API
            if self.path.startswith("/metrics"):
                body, code, ctype = generate_latest(registry), 200, CONTENT_TYPE_LATEST
            elif self.path.startswith("/healthz"):
                status = heartbeats.status()
                body = json.dumps(status, ensure_ascii=False).encode()
                code, ctype = (200 if status["healthy"] else 503), "application/json"
            else:
                body, code, ctype = b"not found\n", 404, "text/plain"
            self.send_response(code)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):  # keep scrapes out of the logs
            pass

    server = ThreadingHTTPServer((host, port), Handler)
    threading.Thread(target=server.serve_forever, name="metrics-http", daemon=True).start()
    return server
