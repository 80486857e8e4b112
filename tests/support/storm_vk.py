"""The loopback VK fake with the failures a storm brings beyond API errors: answers slower than the
client's timeout, truncated JSON bodies, and "ok" markers to let a call through mid-script.

Example: fake.fail("wall.get", "ok", 6, "slow", "truncated", "http500")  # 1st call fine, then a storm
"""
from __future__ import annotations

import json
import time
from http.server import ThreadingHTTPServer
from urllib.parse import parse_qsl

from tests.collectors.fake_vk import FakeVk, FakeVkServer, _Handler

SPECIAL = ("ok", "slow", "truncated")


class StormVk(FakeVk):
    """FakeVk plus "slow" (sleep `slow_s` before answering), "truncated" (half a body) and "ok"."""

    def __init__(self, *args, slow_s: float = 1.0, **kwargs):
        super().__init__(*args, **kwargs)
        self.slow_s = slow_s
        self.specials_served = 0

    def handle(self, method: str, params: dict):
        with self._lock:
            queue = self.failures[method]
            kind = queue.popleft() if queue and queue[0] in SPECIAL else None
            held = list(queue) if kind else []
            if kind:
                queue.clear()  # the real answer must not consume the next scripted failure
        if kind is None:
            return super().handle(method, params)
        try:
            status, body = super().handle(method, params)
        finally:
            with self._lock:
                self.failures[method].extendleft(reversed(held))
                self.specials_served += kind != "ok"
        if kind == "slow":
            time.sleep(self.slow_s)
        if kind == "truncated" and body is not None:
            data = json.dumps(body, ensure_ascii=False).encode()
            return status, Truncated(data[: max(1, len(data) // 2)])
        return status, body


class Truncated(bytes):
    """A body cut short: served as is, with a Content-Length that matches the cut."""


class _StormHandler(_Handler):
    def do_POST(self):  # noqa: N802 - http.server API
        length = int(self.headers.get("Content-Length") or 0)
        params = dict(parse_qsl(self.rfile.read(length).decode()))
        status, body = self.server.fake.handle(self.path.rsplit("/", 1)[-1], params)
        if body is None:
            self.close_connection = True
            self.connection.shutdown(2)
            return
        data = bytes(body) if isinstance(body, Truncated) else json.dumps(body, ensure_ascii=False).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


class StormVkServer(FakeVkServer):
    """FakeVkServer serving truncated bodies too. Example: with StormVkServer(fake) as url: …"""

    def __init__(self, fake: StormVk):
        super().__init__(fake)
        self.httpd.server_close()
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), _StormHandler)
        self.httpd.fake = fake
        self.httpd.daemon_threads = True
