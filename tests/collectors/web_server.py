"""A loopback site serving fixture files with ETag/Last-Modified, 304s and scripted failures."""
from __future__ import annotations

import hashlib
import threading
from collections import defaultdict, deque
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class FakeSite:
    """path -> (body, content type); `fail(path, 500, …, headers={…})` scripts the next answers."""

    def __init__(self):
        self.pages: dict[str, tuple[bytes, str]] = {}
        self.failures: dict[str, deque] = defaultdict(deque)
        self.log: list[tuple[str, dict]] = []
        self.last_modified = "Sun, 23 Nov 2025 09:00:00 GMT"
        self.use_etag = True
        # path -> "chunked" | "none" (no Content-Length: read to EOF) | a Content-Length to claim
        self.framing: dict[str, str] = {}

    def put(self, path: str, body: bytes | str, content_type: str) -> None:
        self.pages[path] = (body.encode() if isinstance(body, str) else body, content_type)

    def fail(self, path: str, *statuses: int, headers: dict[str, str] | None = None) -> None:
        self.failures[path].extend((status, headers or {}) for status in statuses)


class _Handler(BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802 - http.server API
        site: FakeSite = self.server.site
        site.log.append((self.path, dict(self.headers)))
        if site.failures[self.path]:
            status, headers = site.failures[self.path].popleft()
            return self._send(status, b"error", "text/plain", headers)
        if self.path not in site.pages:
            return self._send(404, b"not found", "text/plain", {})
        body, kind = site.pages[self.path]
        etag = '"' + hashlib.md5(body).hexdigest() + '"'
        headers = {"ETag": etag} if site.use_etag else {}
        headers["Last-Modified"] = site.last_modified
        if site.use_etag and self.headers.get("If-None-Match") == etag:
            return self._send(304, b"", kind, headers)
        if not site.use_etag and self.headers.get("If-Modified-Since") == site.last_modified:
            return self._send(304, b"", kind, headers)
        self._send(200, body, kind, headers, site.framing.get(self.path))

    def _send(self, status: int, body: bytes, kind: str, headers: dict, framing: str | None = None) -> None:
        if framing == "chunked":
            self.protocol_version = "HTTP/1.1"
        self.send_response(status)
        self.send_header("Content-Type", kind)
        for k, v in headers.items():
            self.send_header(k, v)
        if framing == "chunked":
            self.send_header("Transfer-Encoding", "chunked")
            self.send_header("Connection", "close")
        elif framing != "none":
            self.send_header("Content-Length", framing or str(len(body)))
        self.end_headers()
        if status != 304:
            try:
                self._write(body, framing == "chunked")
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client stopped reading (a body over its size limit)
        self.close_connection = True

    def _write(self, body: bytes, chunked: bool) -> None:
        if not chunked:
            self.wfile.write(body)
            return
        for i in range(0, len(body), 65536):
            part = body[i:i + 65536]
            self.wfile.write(f"{len(part):x}\r\n".encode() + part + b"\r\n")
        self.wfile.write(b"0\r\n\r\n")

    def log_message(self, *args):
        pass


class SiteServer:
    """Serve a FakeSite on 127.0.0.1. Example: with SiteServer(site) as base: get(base + "/feed.xml")."""

    def __init__(self, site: FakeSite):
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self.httpd.site = site
        self.httpd.daemon_threads = True

    def __enter__(self) -> str:
        threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        return f"http://127.0.0.1:{self.httpd.server_port}"

    def __exit__(self, *exc) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
