"""A loopback webhook receiver that checks signatures and counts deliveries by idempotency key.

Example:
    with WebhookReceiver(secret="s", fail_first=5) as hook:   # the first 5 POSTs get HTTP 503
        ... deliver to hook.url ...
        hook.receipts()   # {"ticket:1:created:webhook": 1, …}
"""
from __future__ import annotations

import json
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from routing.channels import sign


class _Handler(BaseHTTPRequestHandler):
    def do_POST(self):  # noqa: N802 - http.server API
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        status = self.server.receiver.accept(dict(self.headers), body)
        self.send_response(status)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


class WebhookReceiver:
    """Records every signed POST. `fail_first` answers that many requests with HTTP 503 first (or with the
    statuses in `script`, in order); `slow_first` requests are recorded but answered after `slow_s`."""

    def __init__(self, secret: str, fail_first: int = 0, script: list[int] | None = None, slow_first: int = 0,
                 slow_s: float = 0.0):
        self.secret, self.fail_left = secret, fail_first
        self.script = list(script or [])
        self.slow_left, self.slow_s = slow_first, slow_s
        self.log: list[tuple[str, dict]] = []  # (Idempotency-Key header, parsed body) of accepted posts
        self.refused = 0
        self.bad_signatures = 0
        self._lock = threading.Lock()
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self.httpd.receiver = self
        self.httpd.daemon_threads = True

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_port}/hook"

    def accept(self, headers: dict, body: bytes) -> int:
        """The HTTP status for one POST; a valid one is recorded."""
        headers = {k.lower(): v for k, v in headers.items()}
        with self._lock:
            if self.script or self.fail_left > 0:
                if self.script:
                    status = self.script.pop(0)
                else:
                    status, self.fail_left = 503, self.fail_left - 1
                self.refused += 1
                return status
            if sign(self.secret, headers.get("x-tsur-timestamp", ""), body) != headers.get("x-tsur-signature"):
                self.bad_signatures += 1
                return 401
            self.log.append((headers.get("idempotency-key", ""), json.loads(body)))
            slow, self.slow_left = self.slow_left > 0, self.slow_left - 1
        if slow:
            time.sleep(self.slow_s)  # the receipt is recorded, but the sender may time out first
        return 200

    def receipts(self) -> Counter:
        """How many times each idempotency key arrived."""
        with self._lock:
            return Counter(key for key, _ in self.log)

    def mismatched_keys(self) -> list[str]:
        """Deliveries whose header key differs from the key inside the payload (should be none)."""
        with self._lock:
            return [key for key, body in self.log if body.get("key") != key]

    def __enter__(self) -> "WebhookReceiver":
        threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        return self

    def __exit__(self, *exc) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
