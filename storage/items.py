"""Saving collected pages (items + cursor in one transaction) and claiming items for a stage."""
from __future__ import annotations

import hashlib
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from storage.sanitize import clean_json, clean_text, storable_json
from storage.tables import Cursor, Item, QuarantineRecord, Source, utcnow
from tsur.records import Page, Quarantined, RawItem


@dataclass(frozen=True)
class SaveResult:
    """What storing one page changed."""

    new: int = 0
    updated: int = 0
    unchanged: int = 0
    quarantined: int = 0


def text_hash(text: str) -> str:
    """Stable hash of an item's text, used to notice edits."""
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def _insert(session: Session):
    return (postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert)(Item)


def _opt(value: str | None) -> str | None:
    return None if value is None else clean_text(value)


def _row(item: RawItem, now: datetime) -> dict[str, Any]:
    text = clean_text(item.text)
    return {
        "platform": item.platform,
        "source": clean_text(item.source),
        "item_id": clean_text(item.item_id),
        "parent_id": _opt(item.parent_id),
        "kind": item.kind,
        "published_at": item.published_at,
        "text": text,
        "text_hash": text_hash(text),
        "url": _opt(item.url),
        "author": _opt(item.author),
        "raw": clean_json(item.raw),
        "revision": 1,
        "stage": "analyse",
        "first_seen_at": now,
        "updated_at": now,
    }


def _existing_hashes(session: Session, items: list[RawItem]) -> dict[tuple[str, str, str], str]:
    keys = {(i.platform, clean_text(i.source), clean_text(i.item_id)) for i in items}
    by_source: dict[tuple[str, str], list[str]] = {}
    for platform, source, item_id in keys:
        by_source.setdefault((platform, source), []).append(item_id)
    found: dict[tuple[str, str, str], str] = {}
    for (platform, source), ids in by_source.items():
        rows = session.execute(
            sa.select(Item.item_id, Item.text_hash).where(
                Item.platform == platform, Item.source == source, Item.item_id.in_(ids)
            )
        )
        found.update({(platform, source, r.item_id): r.text_hash for r in rows})
    return found


def upsert_items(session: Session, items: list[RawItem], now: datetime | None = None) -> SaveResult:
    """Insert new items; on a changed text bump the revision and send the item back to analysis."""
    if not items:
        return SaveResult()
    now = now or utcnow()
    rows_by_key = {}
    for i in items:  # the last copy of an item in a page wins
        row = _row(i, now)
        rows_by_key[(row["platform"], row["source"], row["item_id"])] = row
    before = _existing_hashes(session, list(items))
    rows = list(rows_by_key.values())
    stmt = _insert(session)
    excluded = stmt.excluded
    stmt = stmt.on_conflict_do_update(
        index_elements=["platform", "source", "item_id"],
        set_={
            "text": excluded.text,
            "text_hash": excluded.text_hash,
            "raw": excluded.raw,
            "url": excluded.url,
            "published_at": excluded.published_at,
            "parent_id": excluded.parent_id,
            "updated_at": excluded.updated_at,
            "revision": Item.revision + 1,
            "stage": "analyse",
            "error": None,  # a parked item gets a new chance with its new text
        },
        where=Item.text_hash != excluded.text_hash,
    )
    session.execute(stmt, rows)
    new = sum(1 for k in rows_by_key if k not in before)
    updated = sum(1 for k, r in rows_by_key.items() if k in before and before[k] != r["text_hash"])
    return SaveResult(new=new, updated=updated, unchanged=len(rows_by_key) - new - updated)


def save_cursor(session: Session, source_id: int, value: dict[str, Any], now: datetime | None = None) -> None:
    """Store a source's cursor (confirmed progress)."""
    row = session.get(Cursor, source_id)
    if row is None:
        session.add(Cursor(source_id=source_id, value=value, updated_at=now or utcnow()))
    else:
        row.value = value
        row.updated_at = now or utcnow()


def load_cursor(session: Session, source_id: int) -> dict[str, Any] | None:
    """The stored cursor of a source, or None before its first page."""
    row = session.get(Cursor, source_id)
    return dict(row.value) if row is not None else None


def save_page(session: Session, source: Source, page: Page, now: datetime | None = None) -> SaveResult:
    """Store a page's items, quarantined records and cursor; the caller commits them as one transaction.

    Items the database refuses (a value too long, a payload it cannot read) are quarantined one by one
    (`upsert_each`); a database outage still raises.
    """
    now = now or utcnow()
    result, refused = upsert_each(session, list(page.items), now)
    quarantined = list(page.quarantined) + refused
    for q in quarantined:
        session.add(QuarantineRecord(source=clean_text(q.source), reason=clean_text(q.reason),
                                     raw=storable_json(q.raw), created_at=now))
    if page.cursor is not None:
        save_cursor(session, source.id, page.cursor, now)
    if result.new:
        source.last_new_item_at = now
    return SaveResult(result.new, result.updated, result.unchanged, len(quarantined))


def upsert_each(session: Session, items: list[RawItem], now: datetime) -> tuple[SaveResult, list[Quarantined]]:
    """`upsert_items` in a SAVEPOINT; if the database refuses the batch, each item in its own SAVEPOINT,
    the refused ones returned as Quarantined with a one-line reason (error class, never the values)."""
    try:
        with session.begin_nested():
            return upsert_items(session, items, now), []
    except Exception as exc:
        if not is_refusal(exc):
            raise
    last = {(i.platform, i.source, i.item_id): i for i in items}  # the last copy of an item in a page wins
    totals, refused = SaveResult(), []
    for item in last.values():
        try:
            with session.begin_nested():
                one = upsert_items(session, [item], now)
        except Exception as exc:
            if not is_refusal(exc):
                raise
            refused.append(Quarantined(item.source, f"not stored: {refusal_reason(exc)}", _identity(item)))
            continue
        totals = SaveResult(totals.new + one.new, totals.updated + one.updated, totals.unchanged + one.unchanged)
    return totals, refused


def is_refusal(exc: BaseException) -> bool:
    """True for a database refusing one record's data; False for an outage or a schema/programming fault."""
    if isinstance(exc, (sa.exc.OperationalError, sa.exc.InterfaceError, sa.exc.InternalError,
                        sa.exc.ProgrammingError, sa.exc.ResourceClosedError, sa.exc.DisconnectionError)):
        return False
    return not getattr(exc, "connection_invalidated", False)


def refusal_reason(exc: BaseException) -> str:
    """One line naming the error: the driver's class and primary message (psycopg's holds no values)."""
    orig = getattr(exc, "orig", None) or exc
    primary = getattr(getattr(orig, "diag", None), "message_primary", None) or ""
    return " ".join(f"{type(orig).__name__}{': ' + primary if primary else ''}".split())[:200]


def _identity(item: RawItem) -> dict[str, Any]:
    """What identifies a refused item in quarantine (cut short: it was refused for a reason)."""
    return {name: _short(getattr(item, name)) for name in ("platform", "source", "item_id", "kind", "url")}


def _short(value: Any, limit: int = 512) -> str | None:
    try:
        return None if value is None else str(value)[:limit]
    except ValueError:  # an integer too long to spell
        return type(value).__name__


def claim_items(session: Session, stage: str, limit: int, ids: Collection[int] | None = None) -> list[Item]:
    """Lock up to `limit` items waiting in `stage` (only these `ids` if given); other workers skip them
    (FOR UPDATE SKIP LOCKED).

    On SQLite the transaction already holds the write lock (BEGIN IMMEDIATE), which serialises claims.
    """
    stmt = (
        sa.select(Item)
        .where(Item.stage == stage)
        .order_by(Item.id)
        .limit(limit)
        .with_for_update(skip_locked=True, of=Item)
    )
    if ids is not None:
        stmt = stmt.where(Item.id.in_(list(ids)))
    return list(session.scalars(stmt))


def waiting_ids(session: Session, stage: str, limit: int) -> list[int]:
    """The ids of the first `limit` items waiting in `stage` (no lock: a claim follows)."""
    return list(session.scalars(sa.select(Item.id).where(Item.stage == stage).order_by(Item.id).limit(limit)))


def count_by_stage(session: Session) -> dict[str, int]:
    """How many items wait in each stage."""
    rows = session.execute(sa.select(Item.stage, sa.func.count()).group_by(Item.stage))
    return {stage: n for stage, n in rows}
