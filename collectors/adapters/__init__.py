"""Turn each platform's raw record into the common RawItem; replay and live collectors share these.

Record types (the JSONL replay format): vk_post, vk_comment, tg_message, web_entry.
People in a payload are pseudonymised before it is adapted (collectors.adapters.people), so the stored
raw payload keeps no user id or name, and replaying it gives the same item.
Example: adapt_record("vk_post", post, source, pseudonymize) -> RawItem(platform="vk", item_id="42", …)
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from collectors.adapters.people import people_pseudonymised
from collectors.adapters.tg import adapt_tg_message
from collectors.adapters.vk import adapt_vk_comment, adapt_vk_post
from collectors.adapters.web import adapt_web_entry
from collectors.base import SourceConfig
from collectors.checks import check_item
from collectors.errors import SkipItem
from storage.sanitize import storable_json
from tsur.records import Quarantined, RawItem

Pseudonymize = Callable[[str, Any], str | None]

ADAPTERS = {
    "vk_post": adapt_vk_post,
    "vk_comment": adapt_vk_comment,
    "tg_message": adapt_tg_message,
    "web_entry": adapt_web_entry,
}


def platform_of(type_: str) -> str:
    """The platform of a record type. Example: platform_of("vk_comment") == "vk"."""
    return type_.split("_", 1)[0]


def adapt_record(type_: str, payload: dict, source: SourceConfig, pseudonymize: Pseudonymize) -> RawItem:
    """The checked RawItem for one recorded payload (collectors.checks); SkipItem when it is malformed.

    Any error while adapting one payload is that payload's SkipItem: one record never stops a page.
    """
    adapter = ADAPTERS.get(type_)
    if adapter is None:
        raise SkipItem(f"unknown record type {type_!r}")
    if not isinstance(payload, dict):
        raise SkipItem(f"{type_}: payload is {type(payload).__name__}, not an object")
    try:
        return check_item(adapter(people_pseudonymised(platform_of(type_), payload, pseudonymize), source,
                                  pseudonymize))
    except SkipItem as exc:
        raise SkipItem(f"{type_} {_record_id(payload)}: {exc}") from None
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise SkipItem(f"{type_} {_record_id(payload)}: malformed ({type(exc).__name__}: {exc})") from None
    except Exception as exc:  # RecursionError, OverflowError …: still only this record's problem
        raise SkipItem(f"{type_} {_record_id(payload)}: malformed ({type(exc).__name__})") from None


def _record_id(payload: dict) -> str:
    """The payload's id for a reason line, cut short (an id may be anything a hostile record holds)."""
    try:
        return " ".join(str(payload.get("id", "?"))[:40].split()) or "?"
    except Exception:
        return "?"


def adapt_many(records: list[tuple[str, dict]], source: SourceConfig,
               pseudonymize: Pseudonymize) -> tuple[tuple[RawItem, ...], tuple[Quarantined, ...]]:
    """Adapt a batch; malformed records become Quarantined entries instead of errors."""
    items, bad = [], []
    for type_, payload in records:
        try:
            items.append(adapt_record(type_, payload, source, pseudonymize))
        except SkipItem as exc:
            try:
                kept = people_pseudonymised(platform_of(type_), payload, pseudonymize)
            except Exception:  # a payload too broken to pseudonymise is not kept
                kept = {"unstorable": "payload could not be pseudonymised"}
            reason = " ".join(str(exc).split())
            raw = {"type": type_, "payload": storable_json(kept)}
            bad.append(Quarantined(source=source.key, reason=reason, raw=raw))
    return tuple(items), tuple(bad)


def record_type(item: RawItem) -> str:
    """The replay record type of an adapted item. Example: a VK comment -> "vk_comment"."""
    if item.platform == "vk":
        return "vk_comment" if item.kind == "comment" else "vk_post"
    return {"tg": "tg_message", "web": "web_entry"}[item.platform]
