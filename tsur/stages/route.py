"""Route stage: claim analysed items and turn each into a decision (ticket, incident, review, ignore)."""
from __future__ import annotations

import logging
import threading
from collections import Counter
from collections.abc import Callable
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session, sessionmaker

from storage.items import claim_items
from storage.locks import serialize
from storage.runs import record_run
from storage.tables import AnalysisRow, Item, utcnow
from tsur.stages.failures import run_batch

log = logging.getLogger(__name__)


def _latest_analyses(session: Session, items: list[Item]) -> dict[int, AnalysisRow]:
    rows = session.scalars(
        sa.select(AnalysisRow)
        .where(AnalysisRow.item_pk.in_([i.id for i in items]))
        .order_by(AnalysisRow.item_pk, AnalysisRow.id)
    )
    revisions = {i.id: i.revision for i in items}
    latest: dict[int, AnalysisRow] = {}
    for row in rows:
        if row.revision == revisions[row.item_pk]:
            latest[row.item_pk] = row  # ordered by id: the last one wins
    return latest


def route_batch(sessions: sessionmaker[Session], policy, *, worker: str, batch: int,
                now: datetime | None = None, on_batch: Callable[[Counter, list[Item]], None] | None = None) -> Counter:
    """Route one claimed batch in one transaction; if it fails, item by item (an item that fails alone is
    parked). Returns decisions counted by outcome (+ requeued, failed).

    `on_batch(counts, decided items)` is called once each transaction is committed (metrics, heartbeat).
    """
    return run_batch(sessions, "route", batch, lambda ids, n: route_claimed(
        sessions, policy, batch=n, now=now, ids=ids, on_batch=on_batch))


def route_claimed(sessions: sessionmaker[Session], policy, *, batch: int, now: datetime | None = None,
                  ids: list[int] | None = None,
                  on_batch: Callable[[Counter, list[Item]], None] | None = None) -> Counter:
    """Claim up to `batch` items (only `ids` if given) and route them in one transaction."""
    from routing.stage import route_items

    with sessions.begin() as s:
        # Route batches touch shared tickets (incidents): one batch at a time across all daemons, so
        # they neither deadlock on ticket rows nor miss each other's new tickets when merging.
        serialize(s, "tickets")
        items = claim_items(s, "route", batch, ids=ids)
        if not items:
            return Counter()
        latest = _latest_analyses(s, items)
        pairs = []
        for item in items:
            if item.id in latest:
                pairs.append((item, latest[item.id]))
            else:  # no analysis of this revision: send it back rather than route stale results
                item.stage = "analyse"
        decisions = route_items(s, pairs, now=now or utcnow(), policy=policy)
        counts = Counter(d.outcome for d in decisions)
        counts["requeued"] = len(items) - len(pairs)
        decided = [item for item, _ in pairs]
    if on_batch is not None:
        on_batch(counts, decided)
    return counts


def route_pending(sessions: sessionmaker[Session], policy, *, worker: str, batch: int = 200,
                  stop: threading.Event | None = None, run_id: str | None = None,
                  on_batch: Callable[[Counter, list[Item]], None] | None = None) -> Counter:
    """Route until nothing waits (or `stop` is set between batches); a pass with nothing to do leaves no `runs` row."""
    total: Counter = Counter()
    with record_run(sessions, "route", worker=worker, run_id=run_id, keep_empty=False) as run:
        while not (stop and stop.is_set()):
            counts = route_batch(sessions, policy, worker=worker, batch=batch, on_batch=on_batch)
            if not counts:
                break
            total.update(counts)
            if sum(v for k, v in counts.items() if k not in ("requeued", "failed")) == 0 and counts["requeued"]:
                break  # only stale items: they go back to analysis first
        run.add(**total)
    if total:
        log.info("routed: %s", dict(total))
    return total
