"""Check one adapted record before storage: types, lengths, dates and payload, so the database never refuses it.

Lengths come from the storage columns (storage.tables.Item), not from numbers copied here. An over-long
external id (a long percent-encoded URL used as an RSS entry id) becomes a stable `sha256:<hex>` id instead of
being refused. Anything else wrong raises BadRecord (a SkipItem): the record is quarantined with that one-line
reason and the page goes on. Example: check_item(item) -> the item, maybe with a hashed id; or BadRecord.
"""
from __future__ import annotations

import dataclasses
import hashlib
from datetime import datetime, timedelta, timezone

from collectors.errors import SkipItem
from storage.sanitize import json_problem
from storage.tables import Item
from tsur.records import RawItem

OLDEST = datetime(2000, 1, 1, tzinfo=timezone.utc)
AHEAD = timedelta(days=1)


class BadRecord(SkipItem):
    """An adapted record the database would refuse or should not keep; the message is one line."""


def column_length(name: str) -> int | None:
    """The declared length of an items column. Example: column_length("item_id") == 128."""
    return getattr(Item.__table__.c[name].type, "length", None)


def stable_id(value: str) -> str:
    """An id that fits the column: itself if short enough, else sha256:<hex> of it."""
    limit = column_length("item_id")
    if limit is None or len(value) <= limit:
        return value
    return "sha256:" + hashlib.sha256(value.encode("utf-8", "surrogatepass")).hexdigest()


def _text(name: str, value, *, required: bool = True) -> None:
    if value is None and not required:
        return
    if not isinstance(value, str):
        raise BadRecord(f"{name} is {type(value).__name__}, not a string")
    if required and not value:
        raise BadRecord(f"{name} is empty")
    limit = column_length(name)
    if limit is not None and len(value) > limit:
        raise BadRecord(f"{name} is {len(value)} characters, over {limit}")


def _identifier(name: str, value, *, required: bool) -> str | None:
    if value is None and not required:
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str) or not value:
        raise BadRecord(f"{name} is {type(value).__name__ if not isinstance(value, str) else 'empty'}, not an id")
    return stable_id(value)


def check_date(value, now: datetime | None = None) -> datetime:
    """`value` in UTC if it is an aware datetime between 2000-01-01 and a day ahead of now; else BadRecord."""
    if not isinstance(value, datetime) or value.tzinfo is None:
        raise BadRecord(f"published_at is not a timezone-aware datetime ({type(value).__name__})")
    try:
        value = value.astimezone(timezone.utc)
    except (OverflowError, ValueError):
        raise BadRecord("published_at is outside the calendar") from None
    latest = (now or datetime.now(timezone.utc)) + AHEAD
    if not OLDEST <= value <= latest:
        raise BadRecord(f"published_at {value:%Y-%m-%d} is outside 2000-01-01 .. a day ahead of now")
    return value


def check_item(item: RawItem, now: datetime | None = None) -> RawItem:
    """The record as it will be stored (text None -> "", long ids hashed, date in UTC), or BadRecord."""
    _text("platform", item.platform)
    _text("source", item.source)
    _text("kind", item.kind)
    item_id = _identifier("item_id", item.item_id, required=True)
    parent_id = _identifier("parent_id", item.parent_id, required=False)
    text = "" if item.text is None else item.text
    _text("text", text, required=False)
    _text("url", item.url, required=False)
    _text("author", item.author, required=False)
    if not isinstance(item.raw, dict):
        raise BadRecord(f"raw is {type(item.raw).__name__}, not an object")
    problem = json_problem(item.raw)
    if problem:
        raise BadRecord(f"raw: {problem}")
    published = check_date(item.published_at, now)
    return dataclasses.replace(item, item_id=item_id, parent_id=parent_id, text=text, published_at=published)
