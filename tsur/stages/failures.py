"""One bad item never blocks a stage: a failed batch is retried item by item and an item that fails alone is
parked (stage `failed`, with its error) so the rest flow on. `retry_failed` puts parked items back.

Example: counts = run_batch(sessions, "route", 200, lambda ids, n: route_claimed(..., batch=n, ids=ids))
"""
from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable, Iterable

import sqlalchemy as sa
from sqlalchemy.orm import Session, sessionmaker

from storage.items import claim_items, waiting_ids
from storage.tables import AnalysisRow, Item

log = logging.getLogger(__name__)
FAILED = "failed"
ERROR_CHARS = 1000


def is_transient(exc: BaseException) -> bool:
    """The database, not the item, failed (connection lost, deadlock, lock timeout): retry the batch later."""
    from storage.db import DatabaseUnavailable

    return isinstance(exc, (sa.exc.OperationalError, sa.exc.InterfaceError, DatabaseUnavailable)) or bool(
        getattr(exc, "connection_invalidated", False))


def describe(stage: str, exc: BaseException) -> str:
    """`<stage>: <ErrorClass>: <first line>`, as stored on a parked item."""
    lines = [line for line in str(exc).splitlines() if line.strip()]
    return f"{stage}: {type(exc).__name__}: {lines[0] if lines else ''}"[:ERROR_CHARS]


def park(sessions: sessionmaker[Session], stage: str, pk: int, exc: BaseException) -> int:
    """Mark one item failed with its error (1), unless another worker moved it on meanwhile (0)."""
    with sessions.begin() as s:
        items = claim_items(s, stage, 1, ids=[pk])
        for item in items:
            item.stage, item.error = FAILED, describe(stage, exc)
    if items:
        log.error("item %d parked in stage %s: %s", pk, stage, describe(stage, exc))
    return len(items)


def isolate(sessions: sessionmaker[Session], stage: str, pks: Iterable[int],
            run_one: Callable[[int], Counter]) -> Counter:
    """Run `run_one(pk)` for each item in its own transaction; park the items that fail alone."""
    total: Counter = Counter()
    for pk in pks:
        try:
            total.update(run_one(pk))
        except Exception as exc:  # noqa: BLE001 - any error of one item parks that item, not the stage
            if is_transient(exc):
                raise
            if park(sessions, stage, pk, exc):
                total["failed"] += 1
    return total


def run_batch(sessions: sessionmaker[Session], stage: str, batch: int,
              claimed: Callable[[list[int] | None, int], Counter]) -> Counter:
    """`claimed(None, batch)`: one claimed batch in one transaction; if it fails (not transiently), the items
    waiting in `stage` one by one through `isolate`, as `claimed([pk], 1)`."""
    try:
        return claimed(None, batch)
    except Exception as exc:  # noqa: BLE001 - see isolate: one bad item must not block every later batch
        if is_transient(exc):
            raise
        log.warning("%s batch failed (%s): handling its items one by one", stage, describe(stage, exc))
    with sessions() as s:
        pks = waiting_ids(s, stage, batch)
    return isolate(sessions, stage, pks, lambda pk: claimed([pk], 1))


def failed_items(session: Session, limit: int | None = None) -> list[Item]:
    """Parked items, oldest first."""
    return list(session.scalars(sa.select(Item).where(Item.stage == FAILED).order_by(Item.id).limit(limit)))


def retry_failed(session: Session, ids: Iterable[int] | None = None) -> int:
    """Put parked items back where they failed: to `route` when their revision is analysed, else `analyse`."""
    query = sa.select(Item).where(Item.stage == FAILED)
    if ids is not None:
        query = query.where(Item.id.in_(list(ids)))
    n = 0
    for item in session.scalars(query):
        analysed = session.scalar(sa.select(sa.func.count()).select_from(AnalysisRow).where(
            AnalysisRow.item_pk == item.id, AnalysisRow.revision == item.revision))
        item.stage, item.error, n = ("route" if analysed else "analyse"), None, n + 1
    return n
