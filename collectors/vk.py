"""VK collectors: community walls (posts + comments, look-back window) and keyword search.

Cursors (JSON):
  vk_wall:   {"last_id": int|null, "comments": {"<post id>": [count, date, read_at]}, "scan": {"top_id", "offset"}?}
  vk_search: {"last_date": int|null, "scan": {"top_date", "start_time", "next_from"}?}
"scan" is a walk newest-first still in progress; "last_id"/"last_date" only move once a walk is done,
so a run interrupted mid-walk resumes where it stopped and loses nothing. (A wall walk resumes by
offset: posts published meanwhile shift it back, which only re-reads a few stored posts; posts
deleted meanwhile shift it forward, and as many older posts could be skipped — rare, and only for
a walk that was cut off.)
"comments" remembers each window post's comment count and when its comments were last read: threads
whose count changed are re-read at once, the others only every `reread_s` (vk_comments_reread_s), so a
new comment whose count was cancelled out by a deletion, or an edited comment, is stored at most that late.
"""
from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from collectors.adapters import adapt_many
from collectors.base import CallStats, SourceConfig
from collectors.errors import NotConfigured
from collectors.ratelimit import WALL_CLOCK, Clock
from collectors.vk_client import VkClient
from collectors.vk_comments import fetch_comments
from collectors.vk_prefetch import WALL_PAGE, shared_prefetch
from tsur.records import Page
from tsur.settings import Settings

SEARCH_PAGE = 200


@dataclass
class VkWallCollector:
    """Posts of one community wall newest-first down to the cursor, plus the look-back window's comments."""

    source: SourceConfig
    client: VkClient
    pseudonymize: Callable
    lookback_s: int = 3 * 24 * 3600
    max_pages: int = 50
    now: Callable[[], float] = time.time
    reread_s: float = 6 * 3600  # re-read the comments of unchanged window posts this often (0 = never)
    owner_id: int = field(init=False)

    def __post_init__(self):
        self.owner_id = int(self.source.handle)
        self.prefetch = shared_prefetch(self.client)
        self.prefetch.register(self.owner_id)

    @property
    def stats(self) -> CallStats:
        return self.client.stats

    def fetch(self, cursor: dict[str, Any] | None) -> Iterator[Page]:
        """Yield one page per wall.get response with the posts and comments it brought."""
        state = dict(cursor or {})
        last_id = state.get("last_id")
        counts = {k: list(v) for k, v in (state.get("comments") or {}).items()}
        scan = state.get("scan") or {}
        offset, top_id = scan.get("offset", 0), scan.get("top_id", last_id or 0)
        horizon = self.now() - self.lookback_s
        for _ in range(self.max_pages):
            response = self._wall_page(offset)
            posts = [p for p in response.get("items") or [] if isinstance(p, dict)]
            regular = [p for p in posts if not p.get("is_pinned") and _sane_int(p.get("id"))]
            top_id = max([top_id, *(p["id"] for p in regular)])
            fresh = [p for p in posts if _is_fresh(p, last_id, horizon)]
            offset += len(posts)
            done = not posts or offset >= response.get("count", 0) or bool(
                regular and not _is_fresh(regular[-1], last_id, horizon))  # newest-first: the rest is older
            records = [("vk_post", p) for p in fresh] + self._comment_records(fresh, counts)
            _prune(counts, horizon)
            next_cursor = {"last_id": top_id if done else last_id, "comments": dict(counts)}
            if not done:
                next_cursor["scan"] = {"top_id": top_id, "offset": offset}
            yield self._page(records, next_cursor)
            if done:
                return

    def _wall_page(self, offset: int) -> dict:
        """One wall.get page; the first comes through the per-token batch of first pages."""
        if offset == 0:
            return self.prefetch.first_page(self.client, self.owner_id, self.source.key)
        values = {"owner_id": self.owner_id, "offset": offset, "count": WALL_PAGE}
        return self.client.call("wall.get", values, self.source.key)

    def _comment_records(self, posts: list[dict], counts: dict[str, list]) -> list[tuple[str, dict]]:
        """Comments of posts whose comment count changed since the last poll or that are due a re-read;
        updates `counts`."""
        now = int(self.now())
        known = [p for p in posts if isinstance(p.get("id"), int)]
        changed = [p for p in known if _comment_count(p) != (counts.get(str(p["id"])) or [None])[0]]
        ids = {p["id"] for p in changed}
        reread = [p for p in _due_rereads(known, counts, now, self.reread_s) if p["id"] not in ids]
        wanted = [p["id"] for p in changed + reread if _comment_count(p)]
        comments = fetch_comments(self.client, self.owner_id, wanted, self.source.key) if wanted else []
        for p in changed + reread:
            counts[str(p["id"])] = [_comment_count(p), p["date"] if isinstance(p.get("date"), int) else 0, now]
        return [("vk_comment", c) for c in comments]

    def _page(self, records: list[tuple[str, dict]], cursor: dict) -> Page:
        items, bad = adapt_many(records, self.source, self.pseudonymize)
        requests, waits = self.client.stats.take()
        return Page(items=items, cursor=cursor, quarantined=bad, requests=requests, waits=waits)


@dataclass
class VkSearchCollector:
    """newsfeed.search for one query (place names, topics), newest-first down to the cursor's date."""

    source: SourceConfig
    client: VkClient
    pseudonymize: Callable
    query: str
    overlap_s: int = 3600
    first_lookback_s: int = 3 * 24 * 3600
    max_pages: int = 50
    now: Callable[[], float] = time.time

    @property
    def stats(self) -> CallStats:
        return self.client.stats

    def fetch(self, cursor: dict[str, Any] | None) -> Iterator[Page]:
        """Yield one page per newsfeed.search response."""
        state = dict(cursor or {})
        last_date = state.get("last_date")
        scan = state.get("scan") or {}
        start_time = scan.get("start_time") or int(
            last_date - self.overlap_s if last_date else self.now() - self.first_lookback_s)
        top_date, next_from = scan.get("top_date", last_date or 0), scan.get("next_from")
        for _ in range(self.max_pages):
            values = {"q": self.query, "count": SEARCH_PAGE, "start_time": start_time}
            if next_from:
                values["start_from"] = next_from
            response = self.client.call("newsfeed.search", values, self.source.key)
            posts = [p for p in response.get("items") or [] if isinstance(p, dict)]
            latest = int(self.now()) + 86400  # a post "from the future" is quarantined; it must not move the cursor
            dates = [p["date"] for p in posts if _sane_int(p.get("date")) and p["date"] <= latest]
            top_date = max([top_date, *dates])
            next_from = response.get("next_from") or None
            done = not posts or not next_from
            next_cursor = {"last_date": top_date if done else last_date}
            if not done:
                next_cursor["scan"] = {"top_date": top_date, "start_time": start_time, "next_from": next_from}
            items, bad = adapt_many([("vk_post", p) for p in posts], self.source, self.pseudonymize)
            requests, waits = self.client.stats.take()
            yield Page(items=items, cursor=next_cursor, quarantined=bad, requests=requests, waits=waits)
            if done:
                return


def _sane_int(value) -> bool:
    """An int a cursor may hold: not a bool, within 64 bits (a hostile 10**200 id must not become the cursor)."""
    return isinstance(value, int) and not isinstance(value, bool) and abs(value) < 2**63


def _comment_count(post: dict) -> int:
    comments = post.get("comments")
    return comments.get("count", 0) if isinstance(comments, dict) else 0


def _due_rereads(posts: list[dict], counts: dict[str, list], now: float, reread_s: float) -> list[dict]:
    """Commented posts whose comments were read `reread_s` ago or more; when one is due, those read over half
    that ago come along, so re-reads share one execute (about one extra request per wall every few hours
    instead of one per post) at the price of re-reading some threads early."""
    if not reread_s:
        return []
    age = {p["id"]: now - _read_at(counts.get(str(p["id"]))) for p in posts if _comment_count(p)}
    if not any(a >= reread_s for a in age.values()):
        return []
    return [p for p in posts if age.get(p["id"], 0.0) >= reread_s / 2]


def _read_at(entry: list | None) -> float:
    """When a post's comments were last read (0 for cursors written before read times were kept)."""
    return entry[2] if entry and len(entry) > 2 else 0.0


def _is_fresh(post: dict, last_id: int | None, horizon: float) -> bool:
    """New since the cursor, or inside the look-back window (edits, late comments)."""
    date = post.get("date") if isinstance(post.get("date"), int) else 0
    newer = last_id is not None and isinstance(post.get("id"), int) and post["id"] > last_id
    return newer or date >= horizon


def _prune(counts: dict[str, list], horizon: float) -> None:
    for key in [k for k, entry in counts.items() if entry[1] < horizon]:
        del counts[key]


def make_client(config: SourceConfig, settings: Settings, clock: Clock | None = None) -> VkClient:
    """The VK client for a source; NotConfigured without TSUR_VK_TOKEN."""
    token = settings.secret("vk_token")
    if not token:
        raise NotConfigured(f"{config.key}: TSUR_VK_TOKEN is not set")
    return VkClient(token=token, api_base=config.options.get("api_base"), rate=settings.vk_requests_per_second,
                    clock=clock or WALL_CLOCK, timeout=settings.http_timeout_s, user_agent=settings.http_user_agent)


def build(config: SourceConfig, settings: Settings, pseudonymize, *, client: VkClient | None = None,
          now: Callable[[], float] = time.time):
    """The collector for a vk_wall or vk_search source (`client`/`now` are for tests and the bench)."""
    type_ = config.options.get("type") or ("vk_search" if config.key.startswith("vk:search:") else "vk_wall")
    if type_ == "vk_search":
        query = config.options.get("query")
        if not query:
            raise NotConfigured(f"{config.key}: vk_search needs options.query")
        return VkSearchCollector(config, client or make_client(config, settings), pseudonymize, query=query,
                                 overlap_s=int(config.options.get("overlap_s", 3600)),
                                 first_lookback_s=settings.vk_lookback_s, max_pages=settings.max_pages_per_poll,
                                 now=now)
    if not config.handle.lstrip("-").isdigit():
        raise NotConfigured(f"{config.key}: handle must be a numeric VK owner id (e.g. -12345 for a community)")
    return VkWallCollector(config, client or make_client(config, settings), pseudonymize,
                           lookback_s=settings.vk_lookback_s, max_pages=settings.max_pages_per_poll, now=now,
                           reread_s=settings.vk_comments_reread_s)
