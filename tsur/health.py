"""A small local HTTP server: /metrics for Prometheus and /healthz that fails when a loop stalls."""
from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from prometheus_client import CONTENT_TYPE_LATEST, generate_latest


class Heartbeats:
    """When each loop last finished a pass; a loop silent for longer than `stall_after` is stalled."""

    def __init__(self, stall_after: float, clock=time.monotonic):
        self.stall_after, self.clock = stall_after, clock
        self._beats: dict[str, float] = {}
        self._errors: dict[str, str] = {}
        self._lock = threading.Lock()

    def beat(self, loop: str) -> None:
        """`loop` completed a pass."""
        with self._lock:
            self._beats[loop] = self.clock()
            self._errors.pop(loop, None)

    def record_error(self, loop: str, message: str) -> None:
        """`loop` failed a pass (no beat: keeps failing -> stalled)."""
        with self._lock:
            self._errors[loop] = message

    def watch(self, loop: str) -> None:
        """Start expecting beats from `loop` (counts from now)."""
        with self._lock:
            self._beats.setdefault(loop, self.clock())

    def status(self) -> dict:
        now = self.clock()
        with self._lock:
            loops = {name: {"seconds_since_pass": round(now - at, 1), "stalled": now - at > self.stall_after,
                            "last_error": self._errors.get(name)} for name, at in self._beats.items()}
        return {"healthy": not any(v["stalled"] for v in loops.values()), "loops": loops}


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
