"""Collector options given as `key=value` text (`tsur sources add --option`), checked against what each type reads.

Example: parse_options("web", ["format=html", "item=.news-item"]) == {"format": "html", "item": ".news-item"}
"""
from __future__ import annotations

from typing import Any

OPTIONS = {  # per source type: the options its collector reads
    "vk_wall": ("api_base",),
    "vk_search": ("query", "overlap_s", "api_base"),
    "tg_channel": (),
    "web": ("format", "item", "link", "title", "summary", "date"),
    "replay": ("page_lines",),
}
WHOLE_NUMBERS = ("overlap_s", "page_lines")
FORMATS = ("rss", "html")


def parse_options(type_: str, pairs: list[str]) -> dict[str, Any]:
    """The options of a `type_` source from `key=value` strings; ValueError names the first bad one."""
    options: dict[str, Any] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        key = key.strip()
        if not sep or not key:
            raise ValueError(f"option {pair!r}: write it as key=value")
        if key not in OPTIONS[type_]:
            raise ValueError(f"unknown option {key!r} for {type_} (it reads: {', '.join(OPTIONS[type_]) or 'none'})")
        if key in options:
            raise ValueError(f"option {key!r} given twice")
        options[key] = adapt_value(key, value)
    check_required(type_, options)
    return options


def adapt_value(key: str, value: str) -> Any:
    """A whole number for the numeric options, the text otherwise. Example: adapt_value("overlap_s", "60") == 60."""
    if key in WHOLE_NUMBERS:
        if not value.strip().isdigit():
            raise ValueError(f"option {key}: a whole number, not {value!r}")
        return int(value)
    if key == "format" and value not in FORMATS:
        raise ValueError(f"option format: {' or '.join(FORMATS)}, not {value!r}")
    return value


def check_required(type_: str, options: dict[str, Any]) -> None:
    """The options without which the collector would be switched off as not configured."""
    if type_ == "vk_search" and not options.get("query"):
        raise ValueError("vk_search needs --option query=<search words>")
    if type_ == "web" and options.get("format") == "html" and not options.get("item"):
        raise ValueError("an HTML news list needs --option item=<CSS selector of one entry>")
