"""Replay recorded items from JSONL through the same adapters the live collectors use.

Each line: {"type": "vk_post" | "vk_comment" | "tg_message" | "web_entry" | "raw_item",
            "source": "<source key>", "payload": {...}}
A "raw_item" payload is a RawItem as a dict (published_at in ISO 8601 with a zone).
The cursor is the number of lines consumed, so a resumed replay continues where it stopped.
"""
from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

from collectors.adapters.people import line_pseudonymised, raw_item_pseudonymised
from collectors.base import SourceConfig
from collectors.checks import check_item
from collectors.errors import NotConfigured, SkipItem
from collectors.pseudonym import Pseudonymizer
from collectors.replay_paths import replay_path
from collectors.sources_file import TYPES
from tsur.records import Page, Quarantined, RawItem
from tsur.settings import Settings

log = logging.getLogger(__name__)
PAGE_LINES = 200


def adapt_raw_item(payload: dict[str, Any], pseudonymize: Pseudonymizer | None = None) -> RawItem:
    """A checked RawItem from its dict form (collectors.checks); SkipItem when a field is missing or malformed.

    Fields keep their JSON types, so a number where a string belongs is refused rather than stored as its
    spelling; JSON null text is the empty text, never "None". With `pseudonymize`, people are pseudonymised
    first (a recorded VK author id is a number; its pseudonym is the string that is checked and stored).
    """
    try:
        published = datetime.fromisoformat(payload["published_at"])
        if published.tzinfo is None:
            raise ValueError("published_at has no time zone")
        item = RawItem(
            platform=payload["platform"], source=payload["source"], item_id=payload["item_id"],
            published_at=published, text=payload["text"], kind=payload.get("kind", "post"),
            parent_id=payload.get("parent_id"), url=payload.get("url"), author=payload.get("author"),
            raw=payload.get("raw") or {},
        )
        if pseudonymize is not None:
            item = raw_item_pseudonymised(item, pseudonymize)
    except (KeyError, TypeError, ValueError) as exc:
        raise SkipItem(f"raw_item: {exc.__class__.__name__}: {' '.join(str(exc).split())[:200]}") from None
    try:
        return check_item(item)
    except SkipItem as exc:
        raise SkipItem(f"raw_item: {exc}") from None


def adapt_line(record: Any, source: SourceConfig, pseudonymize: Pseudonymizer) -> RawItem:
    """Turn one replay record into a RawItem (platform adapters for recorded API payloads)."""
    if not isinstance(record, dict) or "type" not in record or not isinstance(record.get("payload"), dict):
        raise SkipItem("expected an object with 'type' and an object 'payload'")
    type_, payload = record["type"], record["payload"]
    if type_ == "raw_item":
        return adapt_raw_item(payload, pseudonymize)
    from collectors.adapters import adapt_record  # live collectors' adapters

    target = source
    key = record.get("source")
    if key and key != source.key:
        prefix = next((p for _, p in TYPES.values() if key.startswith(p)), None)
        if prefix is None:
            raise SkipItem(f"unknown source key {key!r}")
        target = SourceConfig(key=key, platform=key.split(":", 1)[0], handle=key[len(prefix):], kind=source.kind,
                              home_municipality=source.home_municipality)
    return adapt_record(type_, payload, target, pseudonymize)


def _complete(line: str) -> bool:
    """True if an unterminated last line already holds a whole JSON value (a writer may still be appending)."""
    try:
        json.loads(line)
    except json.JSONDecodeError:
        return False
    except Exception:  # whole but unreadable (nested too deep, too many digits): the reader quarantines it
        return True
    return True


class ReplayCollector:
    """Reads a JSONL file of recorded items, a page of lines at a time; a file that grows is read on as it grows.

    An unterminated last line that is not yet valid JSON is left for the next poll (a writer is appending it).
    """

    def __init__(self, source: SourceConfig, path: Path, pseudonymize: Pseudonymizer, page_lines: int = PAGE_LINES):
        self.source, self.path, self.pseudonymize, self.page_lines = source, path, pseudonymize, page_lines

    def fetch(self, cursor: dict[str, Any] | None) -> Iterator[Page]:
        start = int((cursor or {}).get("line", 0))
        items: list[RawItem] = []
        bad: list[Quarantined] = []
        line_no = start
        with open(self.path, encoding="utf-8", errors="replace") as fh:
            for n, line in enumerate(fh, 1):
                if n <= start:
                    continue
                if not line.endswith("\n") and not _complete(line):
                    log.info("%s:%d: last line is incomplete; read again on the next poll", self.path.name, n)
                    break
                line_no = n
                self._adapt(line, line_no, items, bad)
                if len(items) + len(bad) >= self.page_lines:
                    yield Page(tuple(items), {"line": line_no}, tuple(bad))
                    items, bad = [], []
        if items or bad or line_no > start:
            yield Page(tuple(items), {"line": max(line_no, start)}, tuple(bad))

    def _adapt(self, line: str, line_no: int, items: list[RawItem], bad: list[Quarantined]) -> None:
        if not line.strip():
            return
        try:
            items.append(adapt_line(json.loads(line), self.source, self.pseudonymize))
        except (json.JSONDecodeError, SkipItem) as exc:
            reason = f"{self.path.name}:{line_no}: {' '.join(str(exc).split())[:300]}"
        except Exception as exc:  # RecursionError (deep nesting), ValueError (a 5,000-digit number) …
            reason = f"{self.path.name}:{line_no}: unreadable line ({type(exc).__name__})"
        else:
            return
        log.warning("quarantined %s", reason)
        bad.append(Quarantined(self.source.key, reason, {"line": line_pseudonymised(line, self.pseudonymize)[:10000]}))


def build(config: SourceConfig, settings: Settings, pseudonymize: Pseudonymizer) -> ReplayCollector:
    """A replay collector for `replay:<path>` (relative paths are taken from the project root), inside replay_dirs."""
    try:
        path = replay_path(config.handle, settings)
    except ValueError as exc:
        raise NotConfigured(f"{config.key}: {exc}") from None
    if not path.is_file():
        raise NotConfigured(f"{config.key}: replay file {path} not found")
    return ReplayCollector(config, path, pseudonymize, int(config.options.get("page_lines", PAGE_LINES)))
