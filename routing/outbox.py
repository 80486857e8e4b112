"""Outbox rows: messages for an agency's channels, written in the same transaction as the ticket."""
from __future__ import annotations

import zlib
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from routing.policy import Policy
from storage.tables import Item, Outbox, Ticket, TicketItem

ITEMS_IN_MESSAGE = 20


def ticket_payload(ticket: Ticket) -> dict[str, Any]:
    """The ticket fields an agency receives."""
    return {
        "id": ticket.id, "agency": ticket.agency, "topic_group": ticket.topic_group, "topic": ticket.topic,
        "municipality": ticket.municipality, "settlement": ticket.settlement, "importance": ticket.importance,
        "status": ticket.status, "summary": ticket.summary,
        "created_at": ticket.created_at.isoformat() if ticket.created_at else None,
        "due_at": ticket.due_at.isoformat() if ticket.due_at else None, "rules_version": ticket.rules_version,
    }


def item_payload(item: Item) -> dict[str, Any]:
    """One item as an agency sees it (text, link, when)."""
    return {"platform": item.platform, "kind": item.kind, "url": item.url, "text": item.text,
            "published_at": item.published_at.isoformat() if item.published_at else None}


def ticket_items(session: Session, ticket: Ticket) -> list[Item]:
    """The ticket's items, oldest first."""
    query = (sa.select(Item).join(TicketItem, TicketItem.item_pk == Item.id)
             .where(TicketItem.ticket_id == ticket.id).order_by(TicketItem.added_at, Item.id).limit(ITEMS_IN_MESSAGE))
    return list(session.scalars(query))


def enqueue(session: Session, policy: Policy, ticket: Ticket, kind: str, key: str, now: datetime,
            items: list[Item] | None = None) -> int:
    """Add one outbox row per configured channel of the ticket's agency; returns how many (0: none set up)."""
    channel = policy.delivery.channels.get(ticket.agency or "")
    if channel is None:
        return 0
    session.flush()
    payload = {"kind": kind, "ticket": ticket_payload(ticket),
               "items": [item_payload(i) for i in (items if items is not None else ticket_items(session, ticket))]}
    added = 0
    for name, target in (("webhook", channel.webhook), ("email", channel.email)):
        if target:
            session.add(Outbox(key=f"{key}:{name}", ticket_id=ticket.id, channel=name, target=target,
                               payload={**payload, "key": f"{key}:{name}"}, next_attempt_at=now, created_at=now))
            added += 1
    return added


def undelivered(session: Session, policy: Policy) -> list[Ticket]:
    """Tickets in `new` whose agency has a channel now but which have no outbox row for that agency (the channel
    was added after they were routed or reassigned)."""
    agencies = list(policy.delivery.channels)
    if not agencies:
        return []
    tickets = list(session.scalars(sa.select(Ticket).where(Ticket.status == "new", Ticket.merged_into.is_(None),
                                                           Ticket.agency.in_(agencies)).order_by(Ticket.id)))
    rows = session.execute(sa.select(Outbox.ticket_id, Outbox.payload)
                           .where(Outbox.ticket_id.in_([t.id for t in tickets]))) if tickets else []
    queued = {(ticket_id, (payload or {}).get("ticket", {}).get("agency")) for ticket_id, payload in rows}
    return [t for t in tickets if (t.id, t.agency) not in queued]


def backfill_key(session: Session, ticket: Ticket) -> str:
    """`ticket:<id>:created` for a ticket never queued, else one key per (ticket, agency): re-runs add nothing."""
    if session.scalar(sa.select(sa.func.count()).select_from(Outbox).where(Outbox.ticket_id == ticket.id)) == 0:
        return f"ticket:{ticket.id}:created"
    return f"ticket:{ticket.id}:to:{zlib.crc32((ticket.agency or '').encode()):08x}"


def backfill(session: Session, policy: Policy, now: datetime) -> int:
    """Queue `ticket.created` for tickets their agency's new channel has not had yet; returns rows added."""
    added = 0
    for ticket in undelivered(session, policy):
        key = backfill_key(session, ticket)
        taken = [f"{key}:{name}" for name in ("webhook", "email")]
        if session.scalar(sa.select(sa.func.count()).select_from(Outbox).where(Outbox.key.in_(taken))) == 0:
            added += enqueue(session, policy, ticket, "ticket.created", key, now)
    return added
