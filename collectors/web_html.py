"""Parse the news list of an official site (HTML) and Russian dates into web_entry payloads.

Selectors come from the source's options: item (one news entry), link (inside it, default "a[href]"),
title, summary, date (CSS; a <time datetime=…> attribute is preferred to text).
"""
from __future__ import annotations

from datetime import datetime, timezone
from urllib.parse import urljoin
from zoneinfo import ZoneInfo

from bs4 import BeautifulSoup
from dateutil import parser as dateutil_parser

LOCAL_TZ = ZoneInfo("Europe/Simferopol")  # naive times on Crimean sites are local (UTC+3)


class RussianDates(dateutil_parser.parserinfo):
    """dateutil's parser taught Russian month names in nominative, genitive and short forms."""

    MONTHS = [
        ("янв", "январь", "января"), ("фев", "февраль", "февраля"), ("мар", "март", "марта"),
        ("апр", "апрель", "апреля"), ("май", "мая"), ("июн", "июнь", "июня"), ("июл", "июль", "июля"),
        ("авг", "август", "августа"), ("сен", "сентябрь", "сентября"), ("окт", "октябрь", "октября"),
        ("ноя", "ноябрь", "ноября"), ("дек", "декабрь", "декабря"),
    ]
    JUMP = [*dateutil_parser.parserinfo.JUMP, "г", "г.", "года", "в"]

    def __init__(self):
        super().__init__(dayfirst=True)


def parse_date(text: str | None) -> datetime | None:
    """A UTC datetime from "23 ноября 2025 14:30", "23.11.2025", ISO 8601 …; None when unreadable."""
    if not text or not text.strip():
        return None
    try:
        parsed = dateutil_parser.parse(text.strip().lower(), parserinfo=RussianDates(), fuzzy=True)
    except (ValueError, OverflowError):
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=LOCAL_TZ)
    return parsed.astimezone(timezone.utc)


def _text(node, selector: str | None) -> str:
    found = node.select_one(selector) if selector else None
    return " ".join(found.get_text(" ").split()) if found is not None else ""


def _date(node, selector: str | None) -> datetime | None:
    found = node.select_one(selector) if selector else node.find("time")
    if found is None:
        return None
    return parse_date(found.get("datetime") or found.get_text(" "))


def parse_news_list(html: bytes | str, base_url: str, options: dict) -> list[dict]:
    """web_entry payloads of one list page, in page order; items without a link are dropped."""
    soup = BeautifulSoup(html, "lxml")
    entries = []
    for node in soup.select(options.get("item", "article")):
        link = node.select_one(options.get("link", "a[href]"))
        if link is None or not link.get("href"):
            continue
        url = urljoin(base_url, link["href"])
        published = _date(node, options.get("date"))
        entries.append({
            "id": url, "url": url,
            "title": _text(node, options.get("title")) or " ".join(link.get_text(" ").split()),
            "summary": _text(node, options.get("summary")),
            "published": published.isoformat() if published else None,
        })
    return entries
