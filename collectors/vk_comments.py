"""Fetch all comments of some wall posts, threads included, batching wall.getComments through execute.

A post (or thread) whose comments VK refuses (access denied to it, comments closed) is skipped with one
log line; the other posts' comments are still read. Token-level errors (5, …) still end the poll.
"""
from __future__ import annotations

import logging
from typing import Any

from collectors.vk_client import VkClient, is_error

log = logging.getLogger(__name__)

PAGE = 100
THREAD_PREVIEW = 10
PER_POST_CODES = frozenset({15, 211, 212})  # access denied (this post), to a wall comment, to post comments


def _first_calls(owner_id: int, post_ids: list[int]) -> list[tuple[str, dict[str, Any]]]:
    return [("wall.getComments", {"owner_id": owner_id, "post_id": pid, "count": PAGE, "offset": 0,
                                  "sort": "asc", "thread_items_count": THREAD_PREVIEW}) for pid in post_ids]


def _follow_ups(values: dict[str, Any], response: dict) -> list[tuple[str, dict[str, Any]]]:
    """Calls still needed after one getComments page: the next page, and threads cut short."""
    calls = []
    items = [c for c in response.get("items") or [] if isinstance(c, dict)]
    level_count = response.get("current_level_count", response.get("count", 0))
    if items and values["offset"] + len(items) < level_count:
        calls.append(("wall.getComments", {**values, "offset": values["offset"] + len(items)}))
    if "comment_id" in values:
        return calls
    for comment in items:
        thread = comment.get("thread") or {}
        shown = len(thread.get("items") or [])
        if thread.get("count", 0) > shown:
            calls.append(("wall.getComments", {"owner_id": values["owner_id"], "post_id": values["post_id"],
                                               "comment_id": comment["id"], "count": PAGE, "offset": 0,
                                               "sort": "asc"}))
    return calls


def _comments_of(values: dict[str, Any], response: dict) -> list[dict]:
    """Comments of one page with their preview threads, each tagged with post_id and owner_id."""
    out = []
    for comment in response.get("items") or []:
        if not isinstance(comment, dict):
            continue
        thread = comment.get("thread") or {}
        nested = [] if "comment_id" in values else [c for c in thread.get("items") or [] if isinstance(c, dict)]
        for c in [comment, *nested]:
            out.append({**c, "post_id": c.get("post_id", values["post_id"]),
                        "owner_id": c.get("owner_id", values["owner_id"])})
    return out


def fetch_comments(client: VkClient, owner_id: int, post_ids: list[int], where: str) -> list[dict]:
    """Every live comment of `post_ids` (top level, pages, threads beyond the preview), in fetch order."""
    calls = _first_calls(owner_id, post_ids)
    found: dict[tuple[int, int], dict] = {}
    while calls:
        next_calls = []
        for (method, values), response in zip(calls, client.execute(calls, where, PER_POST_CODES)):
            if is_error(response):
                thread = f" (thread of comment {values['comment_id']})" if "comment_id" in values else ""
                log.warning("%s: comments of post %s%s skipped: VK error %s", where, values["post_id"], thread,
                            response.get("error_code"))
                continue
            for comment in _comments_of(values, response):
                found[(comment["post_id"], comment.get("id"))] = comment
            next_calls.extend(_follow_ups(values, response))
        calls = next_calls
    return [c for c in found.values() if not c.get("deleted")]
