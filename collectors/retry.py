"""Retry quarantined records with the current code: the same adapters, checks, text cap and upsert a collector uses.

A record kept as `{"type", "payload"}` (a live collector's) or `{"line"}` (a replay line) is adapted again; one
stored as an item is marked `retried` (an item stored already is not duplicated: the upsert leaves it as it is),
one refused again stays `open` with the new reason. Records kept without what they were made from (a payload
purged or unstorable, a line that never parsed, the identity of an item the database refused, a page-level
problem) cannot be re-adapted, and say so.
Example: retry_records(sessions, [12, 13], pseudonymize, actor="ivanova") -> [RetryResult(12, "stored", …), …]
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session, sessionmaker

from collectors.base import SourceConfig
from collectors.errors import SkipItem
from collectors.pseudonym import Pseudonymizer
from storage.items import upsert_each
from storage.quarantine import get_record, new_reason, resolve
from storage.sources import source_config
from storage.tables import Item, QuarantineRecord, Source, utcnow
from tsur.limits import MAX_TEXT_CHARS, cap_item
from tsur.records import RawItem

CHUNK = 100  # records per transaction


class CannotReadapt(Exception):
    """The quarantined row does not hold a record that can be adapted again."""


@dataclass(frozen=True)
class RetryResult:
    """What retrying one quarantined record did (or, in a dry run, would do)."""

    id: int
    outcome: str  # stored | refused | cannot | skipped
    detail: str
    item_pk: int | None = None


def readapt(raw: Any, source: SourceConfig, pseudonymize: Pseudonymizer) -> RawItem:
    """The checked RawItem a quarantined payload gives today; SkipItem if it is still refused, CannotReadapt
    if the row keeps nothing to adapt."""
    from collectors.adapters import adapt_record
    from collectors.replay import adapt_line

    if not isinstance(raw, dict):
        raise CannotReadapt("its payload was purged by retention" if raw is None else "no record was kept")
    if "unstorable" in raw or "unstorable" in (raw.get("payload") or {}):
        raise CannotReadapt("the payload could not be stored, only its description was kept")
    if isinstance(raw.get("type"), str) and isinstance(raw.get("payload"), dict):
        return adapt_record(raw["type"], raw["payload"], source, pseudonymize)
    if isinstance(raw.get("line"), str):
        try:
            record = json.loads(raw["line"])
        except Exception:  # cut at 10,000 characters, or never valid JSON: fix the file and replay it
            raise CannotReadapt("the replay line does not parse as JSON (fix the file and replay it)") from None
        return adapt_line(record, source, pseudonymize)
    if "item_id" in raw:
        raise CannotReadapt("the database refused it and only its identity was kept")
    raise CannotReadapt("a page-level problem, no record was kept")


def _source(session: Session, key: str) -> SourceConfig:
    row = session.scalar(sa.select(Source).where(Source.key == key))
    if row is None:
        raise CannotReadapt(f"its source {key} is not in the sources table")
    return source_config(row)


def _item_pk(session: Session, item: RawItem) -> int | None:
    return session.scalar(sa.select(Item.id).where(Item.platform == item.platform, Item.source == item.source,
                                                   Item.item_id == item.item_id))


def retry_one(session: Session, row: QuarantineRecord, pseudonymize: Pseudonymizer, *, actor: str,
              max_text_chars: int = MAX_TEXT_CHARS, now: datetime | None = None, dry_run: bool = False) -> RetryResult:
    """Adapt, check, cap and upsert one open record; mark it retried, or keep it open with the new reason.

    In a dry run (the caller rolls back) the item's id is not named: the rollback gives it back."""
    now = now or utcnow()
    if row.status != "open":
        return RetryResult(row.id, "skipped", f"already {row.status}")
    try:
        item = cap_item(readapt(row.raw, _source(session, row.source), pseudonymize), max_text_chars)
    except CannotReadapt as exc:
        return RetryResult(row.id, "cannot", f"cannot re-adapt: {exc}")
    except SkipItem as exc:
        row.reason = new_reason(row.reason, str(exc))
        return RetryResult(row.id, "refused", row.reason)
    saved, refused = upsert_each(session, [item], now)
    if refused:
        row.reason = new_reason(row.reason, refused[0].reason)
        return RetryResult(row.id, "refused", row.reason)
    pk = _item_pk(session, item)
    how = "new" if saved.new else "updated" if saved.updated else "unchanged"
    resolve(row, "retried", actor, f"item {pk} ({how})", now)
    if dry_run:
        return RetryResult(row.id, "stored", f"({how})")
    return RetryResult(row.id, "stored", f"item {pk} ({how})", pk)


def retry_records(sessions: sessionmaker[Session], ids: list[int], pseudonymize: Pseudonymizer, *, actor: str,
                  max_text_chars: int = MAX_TEXT_CHARS, dry_run: bool = False) -> list[RetryResult]:
    """Retry quarantined records by id, CHUNK per transaction; a dry run rolls every change back."""
    missing = _missing(sessions, ids)
    if missing:
        raise KeyError(f"no quarantined record {', '.join(map(str, missing))} (see `tsur quarantine list`)")
    results: list[RetryResult] = []
    for start in range(0, len(ids), CHUNK):
        with sessions() as s:
            for record_id in ids[start:start + CHUNK]:
                row = get_record(s, record_id, lock=True)
                results.append(retry_one(s, row, pseudonymize, actor=actor, max_text_chars=max_text_chars,
                                         dry_run=dry_run))
            (s.rollback if dry_run else s.commit)()
    return results


def _missing(sessions: sessionmaker[Session], ids: list[int]) -> list[int]:
    """The ids no quarantine row has (looked up CHUNK at a time: a database caps the parameters of a query)."""
    known: set[int] = set()
    with sessions() as s:
        for start in range(0, len(ids), CHUNK):
            chunk = ids[start:start + CHUNK]
            known.update(s.scalars(sa.select(QuarantineRecord.id).where(QuarantineRecord.id.in_(chunk))))
    return [i for i in ids if i not in known]
