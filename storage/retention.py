"""Retention (152-ФЗ): purge the personal data of finished work after N days, keeping the statistics.

Finished: items in a ticket closed before the cutoff, and items decided without a ticket (not a
complaint, or dismissed in review) before it; tickets closed before it; outbox rows delivered before
it; quarantine rows recorded before it.
What goes: item text, raw payload, author, URL and the evidence span quoted from the text; ticket
summaries and sample texts; the item texts and links in delivered messages; quarantined payloads.
What stays: platforms, sources, dates and stages; topics, places and scores; tickets, decisions,
events and counts; a delivered message's ticket fields (topic, place, importance, timings).
"""
from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from storage.tables import AnalysisRow, Decision, Item, Label, Outbox, QuarantineRecord, Ticket, TicketItem

log = logging.getLogger(__name__)
CHUNK = 1000


def dismissed_before(cutoff: datetime):
    """Items an operator dismissed in review (reviewed, no ticket) with nothing labelled after `cutoff`."""
    recent_label = sa.select(Label.id).where(Label.item_pk == Decision.item_pk, Label.created_at >= cutoff)
    return (sa.select(Decision.item_pk)
            .where(Decision.outcome == "review", Decision.reviewed.is_(True), Decision.ticket_id.is_(None),
                   Decision.created_at < cutoff, ~recent_label.exists()))


def purgeable_items(cutoff: datetime):
    """Items finished before `cutoff`: in a ticket closed before it, or decided without a ticket before it."""
    closed = (
        sa.select(TicketItem.item_pk)
        .join(Ticket, Ticket.id == TicketItem.ticket_id)
        .where(Ticket.status == "closed", Ticket.closed_at < cutoff)
    )
    open_ticket_items = (
        sa.select(TicketItem.item_pk).join(Ticket, Ticket.id == TicketItem.ticket_id).where(Ticket.status != "closed")
    )
    ignored = sa.select(Decision.item_pk).where(Decision.outcome == "ignore", Decision.created_at < cutoff)
    untracked = sa.union(ignored, dismissed_before(cutoff)).subquery()
    return sa.union(closed, sa.select(untracked.c.item_pk).where(untracked.c.item_pk.not_in(open_ticket_items)))


def purge_items(session: Session, now: datetime, cutoff: datetime) -> int:
    """Null the text, raw payload, author and URL of finished items, and their analyses' evidence."""
    ids = list(session.scalars(
        sa.select(Item.id).where(Item.id.in_(purgeable_items(cutoff)), Item.purged_at.is_(None), Item.stage == "done")
    ))
    for lo in range(0, len(ids), CHUNK):
        chunk = ids[lo:lo + CHUNK]
        session.execute(sa.update(Item).where(Item.id.in_(chunk))
                        .values(text=None, raw=sa.null(), author=None, url=None, purged_at=now)
                        .execution_options(synchronize_session=False))
        session.execute(sa.update(AnalysisRow).where(AnalysisRow.item_pk.in_(chunk))
                        .values(geo_evidence=None).execution_options(synchronize_session=False))
    return len(ids)


def purge_tickets(session: Session, cutoff: datetime) -> int:
    """Drop the summary and sample texts of tickets closed before `cutoff`."""
    has_text = sa.or_(Ticket.summary.is_not(None), Ticket.sample_texts[0].as_string().is_not(None))
    query = (sa.update(Ticket).where(Ticket.status == "closed", Ticket.closed_at < cutoff, has_text)
             .values(summary=None, sample_texts=[]).execution_options(synchronize_session=False))
    return session.execute(query).rowcount


def delivered_payload(payload: dict[str, Any], now: datetime) -> dict[str, Any]:
    """A delivered message without its texts and links: the ticket's statistics and each item's platform and date."""
    ticket = {k: v for k, v in (payload.get("ticket") or {}).items() if k != "summary"}
    items = [{k: i.get(k) for k in ("platform", "kind", "published_at")} for i in payload.get("items") or []
             if isinstance(i, dict)]
    return {**payload, "ticket": ticket, "items": items, "purged_at": now.isoformat()}


def purge_outbox(session: Session, now: datetime, cutoff: datetime) -> int:
    """Strip texts and links from messages delivered before `cutoff`."""
    rows = session.scalars(sa.select(Outbox).where(Outbox.status == "sent", Outbox.sent_at < cutoff,
                                                   Outbox.payload["purged_at"].as_string().is_(None)))
    n = 0
    for n, row in enumerate(rows, 1):
        row.payload = delivered_payload(row.payload or {}, now)
    return n


def purge_quarantine(session: Session, cutoff: datetime) -> int:
    """Drop the payloads of records quarantined before `cutoff`; source, reason and date stay."""
    query = (sa.update(QuarantineRecord)
             .where(QuarantineRecord.created_at < cutoff, QuarantineRecord.raw.is_not(None))
             .values(raw=sa.null()).execution_options(synchronize_session=False))
    return session.execute(query).rowcount


def purge(session: Session, now: datetime, days: int) -> int:
    """Purge personal data of work finished more than `days` ago; returns how many items were purged."""
    if days < 1:
        raise ValueError("retention must be at least 1 day")
    cutoff = now - timedelta(days=days)
    items = purge_items(session, now, cutoff)
    others = {"tickets": purge_tickets(session, cutoff), "outbox rows": purge_outbox(session, now, cutoff),
              "quarantined records": purge_quarantine(session, cutoff)}
    if any(others.values()):
        log.info("retention: purged texts of %s", ", ".join(f"{n} {what}" for what, n in others.items()))
    return items
