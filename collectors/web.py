"""Official websites: RSS/Atom feeds (feedparser) and HTML news lists, politely and conditionally fetched.

Cursor: {"fingerprint": sha256 of the body, "etag", "last_modified", "newest": ISO time of the newest entry}.
A 304 or an unchanged fingerprint yields an empty page; otherwise every entry on the page is yielded
(upserts make the ones already stored harmless, and catch edited ones).
A 5xx/429 is retried with back-off, sleeping through Retry-After up to web_retry_after_max_s in all; a
longer pause ends the poll with Retriable(retry_after=…).
A body longer than web_max_response_bytes (declared, or counted while it streams in, decoded) is not
read further: Fatal, the source is disabled with one line naming the limit. A feed or news list that
size is a wrong URL or a broken site, not a passing failure; re-downloading megabytes every poll would
change nothing (Scrapy's DOWNLOAD_MAXSIZE likewise cancels and does not retry).
"""
from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any
from urllib.parse import urlsplit

import feedparser
import requests

from collectors.adapters import adapt_many
from collectors.base import CallStats, SourceConfig
from collectors.errors import Fatal, NotConfigured, Retriable
from collectors.ratelimit import WALL_CLOCK, Backoff, Clock, retry, shared_limiter
from collectors.web_html import parse_news_list
from tsur.records import Page, Quarantined
from tsur.settings import Settings

log = logging.getLogger(__name__)
FATAL_STATUS = {401, 403, 404, 410}
MAX_RESPONSE_BYTES = 5_000_000  # the default of web_max_response_bytes
CHUNK = 65536


class TooLarge(Exception):
    """A response body over the size limit (`declared`: by its Content-Length, before reading)."""

    def __init__(self, limit: int, declared: int | None = None):
        super().__init__(limit)
        self.limit, self.declared = limit, declared


class _Transient(Exception):
    """A 5xx/429 answer worth another try."""

    def __init__(self, status: int, retry_after: float):
        super().__init__(status)
        self.status, self.retry_after = status, retry_after


def read_feed(body: bytes) -> tuple[list[dict], str | None]:
    """web_entry payloads of an RSS/Atom document, and what was wrong with it (reported if nothing usable)."""
    parsed = feedparser.parse(body)
    if not parsed.get("bozo"):
        return feed_entries(parsed), None
    return feed_entries(parsed), f"feed could not be parsed: {str(parsed.get('bozo_exception')).splitlines()[0][:200]}"


def feed_entries(parsed: feedparser.FeedParserDict) -> list[dict]:
    """web_entry payloads of a parsed feed."""
    entries = []
    for e in parsed.entries:
        stamp = e.get("published_parsed") or e.get("updated_parsed")
        content = (e.get("content") or [{}])[0].get("value")
        entries.append({
            "id": e.get("id") or e.get("link"), "url": e.get("link"), "title": e.get("title", ""),
            "summary": content or e.get("summary", ""),
            "published": datetime(*stamp[:6], tzinfo=timezone.utc).isoformat() if stamp else None,
        })
    return entries


def looks_like_feed(response: requests.Response) -> bool:
    """RSS/Atom by content type or by the first tag of the body."""
    kind = response.headers.get("Content-Type", "")
    head = response.content[:500].lstrip().lower()
    return any(t in kind for t in ("rss", "atom", "xml")) or head.startswith((b"<?xml", b"<rss", b"<feed"))


@dataclass
class WebCollector:
    """One feed or news-list URL."""

    source: SourceConfig
    pseudonymize: Callable
    session: requests.Session = field(default_factory=requests.Session)
    timeout: float = 20.0
    min_interval_s: float = 2.0
    clock: Clock = WALL_CLOCK
    now: Callable[[], float] = time.time
    backoff: Backoff = field(default_factory=lambda: Backoff(attempts=3, base_s=2.0))
    retry_after_max_s: float = 300.0  # longer Retry-After hints end the poll: Retriable(retry_after=…)
    max_response_bytes: int = MAX_RESPONSE_BYTES
    stats: CallStats = field(default_factory=CallStats)

    @property
    def url(self) -> str:
        return self.source.handle

    def fetch(self, cursor: dict[str, Any] | None) -> Iterator[Page]:
        """One conditional GET -> one page."""
        state = dict(cursor or {})
        response = self._get(state)
        if response.status_code == 304:
            yield Page((), state or None, **self._cost())
            return
        fingerprint = hashlib.sha256(response.content).hexdigest()
        new_state = {**state, "fingerprint": fingerprint, "etag": response.headers.get("ETag"),
                     "last_modified": response.headers.get("Last-Modified")}
        if fingerprint == state.get("fingerprint"):
            yield Page((), new_state, **self._cost())
            return
        entries, problem = self._entries(response)
        fetched = datetime.fromtimestamp(self.now(), tz=timezone.utc).isoformat()
        records = [("web_entry", e if e.get("published") else {**e, "fetched": fetched}) for e in entries]
        items, bad = adapt_many(records, self.source, self.pseudonymize)
        if problem and not items:  # a page that silently stops producing shows up in quarantine and run stats
            log.warning("%s: %s", self.source.key, problem)
            bad += (Quarantined(self.source.key, problem, {"url": self.url, "bytes": len(response.content)}),)
        newest = max([state.get("newest") or "", *(i.published_at.isoformat() for i in items)])
        new_state["newest"] = newest or None
        yield Page(items, new_state, bad, **self._cost())

    def _cost(self) -> dict[str, Any]:
        """The requests and waits spent since the last page, as Page fields."""
        requests, waits = self.stats.take()
        return {"requests": requests, "waits": waits}

    def _entries(self, response: requests.Response) -> tuple[list[dict], str | None]:
        """The page's entries, and the likely breakage to report if none of them is usable."""
        fmt = self.source.options.get("format") or ("rss" if looks_like_feed(response) else "html")
        if fmt != "html":
            return read_feed(response.content)
        entries = parse_news_list(response.content, response.url or self.url, self.source.options)
        selector = self.source.options.get("item", "article")
        return entries, f"no entries matched options.item {selector!r} (site layout changed?)"

    def _get(self, state: dict) -> requests.Response:
        headers = {k: v for k, v in (("If-None-Match", state.get("etag")),
                                     ("If-Modified-Since", state.get("last_modified"))) if v}
        limiter = shared_limiter(f"web:{urlsplit(self.url).netloc}", 1.0 / max(self.min_interval_s, 1e-6),
                                 self.clock)

        def once() -> requests.Response:
            self.stats.waits += limiter.wait()
            self.stats.requests += 1
            response = self.session.get(self.url, headers=headers, timeout=self.timeout, stream=True)
            with response:
                if response.status_code >= 500 or response.status_code == 429:
                    raise _Transient(response.status_code, _retry_after(response))
                read_bounded(response, self.max_response_bytes)
            return response

        def on_wait(seconds: float) -> None:
            self.stats.waits += seconds

        try:
            response = retry(once, is_transient=_transient_hint, backoff=self.backoff, clock=self.clock,
                             on_wait=on_wait, max_wait_s=self.retry_after_max_s)
        except _Transient as exc:
            hint = f"; Retry-After {exc.retry_after:.0f} s" if exc.retry_after else ""
            raise Retriable(f"{self.source.key}: HTTP {exc.status}{hint}", code=f"http_{exc.status}",
                            retry_after=exc.retry_after or None) from None
        except requests.RequestException as exc:
            raise Retriable(f"{self.source.key}: request failed ({type(exc).__name__})", code="network") from None
        except TooLarge as exc:
            size = f"declares {exc.declared:,} bytes" if exc.declared else f"is over {exc.limit:,} bytes"
            raise Fatal(f"{self.source.key}: the response {size}, more than web_max_response_bytes="
                        f"{exc.limit}; check the URL or raise the setting", code="too_large") from None
        if response.status_code in FATAL_STATUS:
            raise Fatal(f"{self.source.key}: HTTP {response.status_code}; check the URL", code=response.status_code)
        if response.status_code >= 400:
            raise Retriable(f"{self.source.key}: HTTP {response.status_code}", code=response.status_code)
        return response


def read_bounded(response: requests.Response, limit: int) -> bytes:
    """Read a streamed body into response.content, stopping with TooLarge past `limit` bytes (decoded).

    A Content-Length over the limit is refused before reading; a missing or lying one (chunked, or
    smaller than the body) does not matter: the bytes are counted as they arrive.
    """
    declared = response.headers.get("Content-Length", "")
    if declared.isdigit() and int(declared) > limit:
        raise TooLarge(limit, int(declared))
    body = bytearray()
    for chunk in response.iter_content(CHUNK):
        body += chunk
        if len(body) > limit:
            raise TooLarge(limit)
    response._content = bytes(body)  # what requests itself sets when it reads the whole body
    return response._content


def _retry_after(response: requests.Response) -> float:
    value = response.headers.get("Retry-After", "")
    return float(value) if value.isdigit() else 0.0


def _transient_hint(exc: Exception) -> float | None:
    if isinstance(exc, _Transient):
        return exc.retry_after
    if isinstance(exc, (requests.Timeout, requests.ConnectionError)):
        return 0.0
    return None


def build(config: SourceConfig, settings: Settings, pseudonymize, *, clock: Clock | None = None,
          now: Callable[[], float] = time.time) -> WebCollector:
    """The collector for a web source (handle = the feed or list URL)."""
    if not config.handle.startswith(("http://", "https://")):
        raise NotConfigured(f"{config.key}: handle must be an http(s) URL")
    if config.options.get("format") == "html" and not config.options.get("item"):
        raise NotConfigured(f"{config.key}: an HTML list needs options.item (a CSS selector for one entry)")
    session = requests.Session()
    session.headers["User-Agent"] = settings.http_user_agent
    return WebCollector(config, pseudonymize, session=session, timeout=settings.http_timeout_s,
                        min_interval_s=settings.web_min_interval_s, clock=clock or WALL_CLOCK, now=now,
                        retry_after_max_s=settings.web_retry_after_max_s,
                        max_response_bytes=settings.web_max_response_bytes)
