"""Retention (152-ФЗ): purge texts, raw payloads and author pseudonyms of finished items after N days.

Statistics stay: items keep platform, source, dates and stage; analyses keep topic, place and
scores; tickets, decisions and events stay whole. What goes: item text, raw payload, author, URL,
and the evidence span quoted from the text.
"""
from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session

from storage.tables import AnalysisRow, Decision, Item, Ticket, TicketItem


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
    untracked = (
        sa.select(Decision.item_pk)
        .where(Decision.outcome == "ignore", Decision.created_at < cutoff)
        .where(Decision.item_pk.not_in(open_ticket_items))
    )
    return sa.union(closed, untracked)


def purge(session: Session, now: datetime, days: int) -> int:
    """Purge personal data of items finished more than `days` ago; returns how many items were purged."""
    if days < 1:
        raise ValueError("retention must be at least 1 day")
    cutoff = now - timedelta(days=days)
    ids = list(session.scalars(
        sa.select(Item.id).where(Item.id.in_(purgeable_items(cutoff)), Item.purged_at.is_(None), Item.stage == "done")
    ))
    for lo in range(0, len(ids), 1000):
        chunk = ids[lo:lo + 1000]
        session.execute(sa.update(Item).where(Item.id.in_(chunk))
                        .values(text=None, raw=None, author=None, url=None, purged_at=now)
                        .execution_options(synchronize_session=False))
        session.execute(sa.update(AnalysisRow).where(AnalysisRow.item_pk.in_(chunk))
                        .values(geo_evidence=None).execution_options(synchronize_session=False))
    return len(ids)
