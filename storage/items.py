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

from storage.sanitize import clean_json, clean_text
from storage.tables import Cursor, Item, QuarantineRecord, Source, utcnow
from tsur.records import Page, RawItem


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
    """Store a page's items, quarantined records and cursor; the caller commits them as one transaction."""
    now = now or utcnow()
    result = upsert_items(session, list(page.items), now)
    for q in page.quarantined:
        session.add(QuarantineRecord(source=clean_text(q.source), reason=clean_text(q.reason), raw=clean_json(q.raw),
                                     created_at=now))
    if page.cursor is not None:
        save_cursor(session, source.id, page.cursor, now)
    if result.new:
        source.last_new_item_at = now
    return SaveResult(result.new, result.updated, result.unchanged, len(page.quarantined))


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
