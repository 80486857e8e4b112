"""Record what a live collector fetched as replay JSONL (dogsheep-style `--load FILE`).

Each line: {"type": "vk_post" | "vk_comment" | "tg_message" | "web_entry", "source": key, "payload": raw}.
`collectors.replay` reads the file back through the same adapters, so replayed items equal live ones.
"""
from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import IO

from collectors.adapters import record_type
from tsur.records import Page, RawItem


def record_line(item: RawItem) -> str:
    """One JSONL line for an adapted item. Example: '{"type": "vk_post", "source": "vk:wall:-1", …}'."""
    return json.dumps({"type": record_type(item), "source": item.source, "payload": item.raw},
                      ensure_ascii=False, sort_keys=True)


def write_items(items: Iterable[RawItem], fh: IO[str]) -> int:
    """Append items to an open JSONL file; returns how many were written."""
    count = 0
    for item in items:
        fh.write(record_line(item) + "\n")
        count += 1
    return count


def record_pages(pages: Iterable[Page], path: Path) -> Iterator[Page]:
    """Pass pages through unchanged while appending their items to `path` (flushed per page)."""
    with open(path, "a", encoding="utf-8") as fh:
        for page in pages:
            write_items(page.items, fh)
            fh.flush()
            yield page


class RecordingCollector:
    """Wrap a collector so that every page it yields is also recorded to a JSONL file."""

    def __init__(self, collector, path: Path):
        self.collector, self.path = collector, Path(path)
        self.source = collector.source

    def fetch(self, cursor):
        return record_pages(self.collector.fetch(cursor), self.path)
