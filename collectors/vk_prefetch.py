"""First wall.get pages of many communities in one `execute` (up to 25), shared by the collectors of a token.

The runner polls sources one at a time. When a wall collector needs its first page, it also asks for
the first pages of up to 24 other walls this process polls with the same token that were not read in
the last `ttl_s`; their collectors then take the page from here instead of spending a request. A
cached page is at most `ttl_s` old: posts newer than it have higher ids than the cursor it yields,
so the next poll reads them. On the first round no wall has been seen, so nothing is batched.
"""
from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

from collectors.ratelimit import Clock
from collectors.vk_client import EXECUTE_LIMIT, TRANSIENT_CODES, VkClient, error_from_dict, is_error

WALL_PAGE = 100


def first_page_values(owner_id: int) -> dict[str, Any]:
    return {"owner_id": owner_id, "offset": 0, "count": WALL_PAGE}


@dataclass
class WallPrefetch:
    """Per-token cache of first wall pages; `first_page(client, owner, where)` is a drop-in for wall.get."""

    clock: Clock
    ttl_s: float = 120.0
    known: dict[int, None] = field(default_factory=dict)  # an ordered set of walls polled in this process
    read_at: dict[int, float] = field(default_factory=dict)
    cache: dict[int, tuple[float, Any]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def register(self, owner_id: int) -> None:
        """Remember a wall polled with this token."""
        with self.lock:
            self.known.setdefault(owner_id, None)

    def _take(self, owner_id: int, now: float) -> Any:
        hit = self.cache.pop(owner_id, None)
        return hit[1] if hit is not None and now - hit[0] <= self.ttl_s else None

    def _stale_others(self, owner_id: int, now: float) -> list[int]:
        stale = [o for o in self.known if o != owner_id and now - self.read_at.get(o, float("-inf")) > self.ttl_s]
        return stale[:EXECUTE_LIMIT - 1]

    def first_page(self, client: VkClient, owner_id: int, where: str) -> dict:
        """The wall's first page: from the cache, else fetched together with other stale walls."""
        with self.lock:
            now = self.clock.now()
            cached = self._take(owner_id, now)
            others = [] if cached is not None else self._stale_others(owner_id, now)
            for o in [owner_id, *others]:
                self.read_at[o] = now
        if cached is not None:
            if is_error(cached):
                raise error_from_dict(cached, "wall.get", where)
            return cached
        if not others:
            return client.call("wall.get", first_page_values(owner_id), where)
        outcomes = client.execute_once([("wall.get", first_page_values(o)) for o in [owner_id, *others]], where)
        own, rest = outcomes[0], outcomes[1:]
        with self.lock:
            for other, outcome in zip(others, rest):
                if is_error(outcome) and outcome.get("error_code") in TRANSIENT_CODES:
                    self.read_at.pop(other, None)  # let that wall fetch for itself
                else:
                    self.cache[other] = (now, outcome)
        if is_error(own):
            if own.get("error_code") in TRANSIENT_CODES:
                return client.call("wall.get", first_page_values(owner_id), where)
            raise error_from_dict(own, "wall.get", where)
        return own


_SHARED: dict[str, tuple[object, WallPrefetch]] = {}
_SHARED_LOCK = threading.Lock()


def shared_prefetch(client: VkClient) -> WallPrefetch:
    """The prefetch of the client's token (one per shared limiter, so tests on new clocks start clean)."""
    with _SHARED_LOCK:
        limiter, prefetch = _SHARED.get(client.limiter_key, (None, None))
        if limiter is not client.limiter:
            prefetch = WallPrefetch(client.clock)
            _SHARED[client.limiter_key] = (client.limiter, prefetch)
        return prefetch
