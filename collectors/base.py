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


class Collector(Protocol):
    """Anything with a `source` and a `fetch(cursor)` that yields Pages, oldest progress first."""

    source: SourceConfig

    def fetch(self, cursor: dict[str, Any] | None) -> Iterator[Page]:
        ...
