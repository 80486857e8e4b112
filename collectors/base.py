"""The collector contract: `fetch(cursor)` yields Pages; the runner stores each page with its cursor."""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Protocol

from tsur.records import Page


@dataclass(frozen=True)
class SourceConfig:
    """A configured source as loaded from config/sources.toml or the sources table."""

    key: str  # vk:wall:-123 | vk:search:<name> | tg:channel:<name> | web:<url> | replay:<path>
    platform: str
    handle: str
    kind: str = "community"  # госпаблик | community | media | web
    home_municipality: str | None = None
    interval_s: int = 600
    enabled: bool = True
    options: dict[str, Any] = field(default_factory=dict)


@dataclass
class CallStats:
    """Requests sent and seconds waited since the last `take()`."""

    requests: int = 0
    waits: float = 0.0

    def take(self) -> tuple[int, float]:
        """Return and reset the counters (one page's cost)."""
        out = (self.requests, self.waits)
        self.requests, self.waits = 0, 0.0
        return out


class Collector(Protocol):
    """Anything with a `source` and a `fetch(cursor)` that yields Pages, oldest progress first.

    A collector that calls an API also keeps `stats` (CallStats): each page takes what it cost, and
    the runner takes what a poll spent after its last page (a failed poll's requests and waits).
    """

    source: SourceConfig

    def fetch(self, cursor: dict[str, Any] | None) -> Iterator[Page]:
        ...


def unreported(collector: Collector) -> tuple[int, float]:
    """Requests and waits the collector spent since its last page; (0, 0.0) for one that keeps no stats."""
    stats = getattr(collector, "stats", None)
    return stats.take() if stats is not None else (0, 0.0)
