"""A loopback fake of VK's API: the JSON envelope, paging, execute, errors and the 3 req/s limit.

Every body it serves is checked against VK's official schema (when a VkSchema is given); problems
are collected in `schema_errors` for the test to assert on. Time comes from an injectable clock, so
the rate limit is enforced on simulated time in tests and the bench.
"""
from __future__ import annotations

import json
import re
import threading
import time
from collections import defaultdict, deque
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl

from collectors.ratelimit import Clock

ERROR_MESSAGES = {
    5: "User authorization failed: invalid access_token (4).", 6: "Too many requests per second",
    9: "Flood control", 10: "Internal server error", 14: "Captcha needed", 15: "Access denied",
    18: "User was deleted or banned", 29: "Rate limit reached", 30: "This profile is private",
    100: "One of the parameters specified was missing or invalid", 203: "Access to group denied",
    212: "Access to post comments denied",
}
CALL_RE = re.compile(r"API\.([\w.]+)\(")


class VkError(Exception):
    """An API error the fake answers with."""

    def __init__(self, code: int):
        super().__init__(code)
        self.code = code


class FakeVk:
    """State of the fake: walls, comments, a search corpus, scripted failures and a request log."""

    def __init__(self, token: str = "test-token", schema=None, clock: Clock | None = None, rps: float | None = 3.0):
        self.token, self.schema, self.clock, self.rps = token, schema, clock or Clock(), rps
        self.walls: dict[int, list[dict]] = defaultdict(list)  # newest first
        self.comments: dict[tuple[int, int], list[dict]] = defaultdict(list)  # top level, each with "replies"
        self.corpus: list[dict] = []  # posts newsfeed.search can find
        self.denied: dict[int, int] = {}  # owner_id -> error code for wall.get on it
        self.failures: dict[str, deque] = defaultdict(deque)  # method -> int API error | "http500" | "drop" | "slow"
        self.log: list[tuple[str, dict]] = []  # (method, params) of every HTTP request
        self.schema_errors: list[str] = []
        self.rate_violations = 0
        self.slow_s = 0.5  # how late a scripted "slow" answer comes (real seconds)  # requests refused with error 6 because the client went too fast
        self.captcha = {"captcha_sid": "123456", "captcha_img": "https://api.vk.ru/captcha.php?sid=123456",
                        "redirect_uri": "https://id.vk.ru/not_robot_captcha?session_token=x"}  # fields of an error 14
        self._recent: deque = deque()
        self._lock = threading.Lock()

    # -- scripting -------------------------------------------------------------------------------
    def fail(self, method: str, *codes) -> None:
        """Answer the next calls of `method` with these errors, in order (e.g. 6, "http500")."""
        self.failures[method].extend(codes)

    def add_post(self, owner_id: int, post_id: int, date: int, text: str, **extra) -> dict:
        """Publish a post on a wall (kept newest first) and return it."""
        post = {"id": post_id, "owner_id": owner_id, "from_id": owner_id, "date": date, "text": text,
                "post_type": "post", "comments": {"count": 0, "can_post": 1}, **extra}
        wall = self.walls[owner_id]
        wall.append(post)
        wall.sort(key=lambda p: (not p.get("is_pinned"), -p["id"]))
        return post

    def add_comment(self, owner_id: int, post_id: int, comment_id: int, date: int, text: str,
                    from_id: int = 1, reply_to: int | None = None) -> dict:
        """Comment a post (or reply in the thread of `reply_to`) and bump the post's comment count."""
        comment = {"id": comment_id, "from_id": from_id, "date": date, "text": text, "post_id": post_id,
                   "owner_id": owner_id, "parents_stack": [reply_to] if reply_to else []}
        if reply_to is None:
            self.comments[(owner_id, post_id)].append({**comment, "replies": []})
        else:
            parent = next(c for c in self.comments[(owner_id, post_id)] if c["id"] == reply_to)
            parent["replies"].append(comment)
        post = next(p for p in self.walls[owner_id] if p["id"] == post_id)
        post["comments"]["count"] += 1
        return comment

    def requests_of(self, method: str) -> int:
        """How many HTTP requests called `method`."""
        return sum(1 for m, _ in self.log if m == method)

    # -- serving ---------------------------------------------------------------------------------
    def handle(self, method: str, params: dict) -> tuple[int, dict | None]:
        """(HTTP status, JSON body) for one request; a None body means drop the connection."""
        with self._lock:
            self.log.append((method, params))
            scripted = self.failures[method].popleft() if self.failures[method] else None
            over_rate = self._over_rate()
        if scripted == "slow":  # answer after the client's timeout
            time.sleep(self.slow_s)
        if scripted == "http500":
            return 500, {"error": "internal"}
        if scripted == "drop":
            return 0, None
        try:
            if params.get("access_token") != self.token:
                raise VkError(5)
            if not params.get("v"):
                raise VkError(100)
            if over_rate:
                self.rate_violations += 1
                raise VkError(6)
            if isinstance(scripted, int):
                raise VkError(scripted)
            body = self._execute(params) if method == "execute" else {"response": self.call(method, params)}
        except VkError as exc:
            body = {"error": self._error(exc.code, method, params)}
            self._validate_error(body["error"])
            return 200, body
        if method != "execute":
            self._validate(method, body)
        return 200, body

    def _over_rate(self) -> bool:
        if not self.rps:
            return False
        now = self.clock.now()
        while self._recent and self._recent[0] <= now - 1.0 + 1e-6:  # float slack on evenly spaced calls
            self._recent.popleft()
        self._recent.append(now)
        return len(self._recent) > self.rps + 1e-9

    def _error(self, code: int, method: str, params: dict) -> dict:
        error = {"error_code": code, "error_msg": ERROR_MESSAGES.get(code, "Unknown error"),
                 "request_params": [{"key": "method", "value": method}, {"key": "oauth", "value": "1"}]}
        if code == 14:
            error.update(self.captcha)
        return error

    def _validate(self, method: str, body: dict) -> None:
        if self.schema is not None:
            self.schema_errors.extend(self.schema.check_response(method, body))

    def _validate_error(self, error: dict) -> None:
        if self.schema is not None:
            self.schema_errors.extend(self.schema.check_error(error))

    def _execute(self, params: dict) -> dict:
        """Run `return [API.m({...}),…];` as VK would: false + execute_errors for failed calls."""
        code = params.get("code", "").strip()
        if not (code.startswith("return [") and code.endswith("];")):
            raise VkError(12)
        results, errors, decoder, pos = [], [], json.JSONDecoder(), 0
        calls = []
        while (match := CALL_RE.search(code, pos)) is not None:
            args, end = decoder.raw_decode(code, match.end())
            calls.append((match.group(1), args))
            pos = end + 1
        if len(calls) > 25:
            raise VkError(13)
        for method, args in calls:
            scripted = self.failures[method].popleft() if self.failures[method] else None
            try:
                if isinstance(scripted, int):
                    raise VkError(scripted)
                result = self.call(method, {k: str(v) for k, v in args.items()})
                self._validate(method, {"response": result})
                results.append(result)
            except VkError as exc:
                results.append(False)
                errors.append({"method": method, **self._error(exc.code, method, args)})
                self._validate_error(errors[-1])
        body = {"response": results}
        if errors:
            body["execute_errors"] = [{k: v for k, v in e.items() if k != "request_params"} for e in errors]
        return body

    def call(self, method: str, params: dict):
        """The "response" part of one method call."""
        handler = {"wall.get": self._wall_get, "wall.getComments": self._wall_get_comments,
                   "newsfeed.search": self._newsfeed_search}.get(method)
        if handler is None:
            raise VkError(3)
        return handler(params)

    def _wall_get(self, p: dict) -> dict:
        owner = int(p["owner_id"])
        if owner in self.denied:
            raise VkError(self.denied[owner])
        offset, count = int(p.get("offset", 0)), min(int(p.get("count", 20)), 100)
        wall = self.walls.get(owner, [])
        return {"count": len(wall), "items": [json.loads(json.dumps(x)) for x in wall[offset:offset + count]]}

    def _wall_get_comments(self, p: dict) -> dict:
        owner, post_id = int(p["owner_id"]), int(p["post_id"])
        offset, count = int(p.get("offset", 0)), min(int(p.get("count", 10)), 100)
        top = self.comments.get((owner, post_id), [])
        if "comment_id" in p:
            parent = next((c for c in top if c["id"] == int(p["comment_id"])), None)
            if parent is None:
                raise VkError(100)
            level = parent["replies"]
            return {"count": len(level), "current_level_count": len(level), "items": level[offset:offset + count]}
        preview = int(p.get("thread_items_count", 0))
        items = [{**{k: v for k, v in c.items() if k != "replies"},
                  "thread": {"count": len(c["replies"]), "items": c["replies"][:preview], "can_post": True}}
                 for c in top[offset:offset + count]]
        return {"count": len(top) + sum(len(c["replies"]) for c in top), "current_level_count": len(top),
                "items": items}

    def _newsfeed_search(self, p: dict) -> dict:
        query, start_time = p.get("q", "").lower(), int(p.get("start_time", 0))
        count, offset = min(int(p.get("count", 30)), 200), int(p.get("start_from") or 0)
        found = sorted((x for x in self.corpus if query in x["text"].lower() and x["date"] >= start_time),
                       key=lambda x: -x["date"])
        body = {"count": len(found), "total_count": len(found), "items": found[offset:offset + count]}
        if offset + count < len(found):
            body["next_from"] = str(offset + count)
        return body


class _Handler(BaseHTTPRequestHandler):
    fake: FakeVk

    def do_POST(self):  # noqa: N802 - http.server API
        length = int(self.headers.get("Content-Length") or 0)
        params = dict(parse_qsl(self.rfile.read(length).decode()))
        method = self.path.rsplit("/", 1)[-1]
        status, body = self.server.fake.handle(method, params)
        if body is None:
            self.close_connection = True
            try:
                self.connection.shutdown(2)
            except OSError:
                pass
            return
        data = json.dumps(body, ensure_ascii=False).encode()
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
        except OSError:  # the client gave up (timeout test)
            pass

    def log_message(self, *args):  # keep test output quiet
        pass


class FakeVkServer:
    """Serve a FakeVk on 127.0.0.1 in a thread. Example: with FakeVkServer(fake) as url: …"""

    def __init__(self, fake: FakeVk):
        self.fake = fake
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self.httpd.fake = fake
        self.httpd.daemon_threads = True

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_port}/method/"

    def __enter__(self) -> str:
        threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        return self.url

    def __exit__(self, *exc) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
