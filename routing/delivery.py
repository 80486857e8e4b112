"""Deliver pending outbox rows: claim (SKIP LOCKED), send, record; retries with exponential backoff.

At-least-once with an idempotency key: a row is claimed with a lease before sending, and marked
`sent` after. If the process dies between the send and that commit, the lease expires and the row
is sent again with the same `Idempotency-Key` header (and e-mail Message-ID), so the receiver can
drop the duplicate. This is the usual contract of webhooks; exactly-once is not possible here.

Whatever goes wrong with one message (a refused target, an unexpected exception) is a failed attempt of
that message, never the end of the pass; after `max_attempts` the row is parked as `failed`, and so is a
row claimed `max_attempts` times without an outcome (its sender kept dying mid-send).
"""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session, sessionmaker

from routing.channels import SendFailed, send
from routing.errors import DeliveryConfigError
from routing.outbox import backfill, undelivered
from routing.policy import Policy
from storage.locks import serialize
from storage.tables import Outbox, Ticket, TicketEvent
from tsur.masking import mask

log = logging.getLogger(__name__)
ACTOR = "system:delivery"


@dataclass(frozen=True)
class Claimed:
    """A snapshot of one claimed outbox row, used outside the claiming transaction."""

    id: int
    key: str
    ticket_id: int
    channel: str
    target: str
    payload: dict[str, Any]
    attempts: int


def backoff(attempts: int, policy: Policy) -> timedelta:
    """Delay before the next attempt: base · 2^(attempts−1), capped."""
    cfg = policy.delivery
    return timedelta(seconds=min(cfg.backoff_base_s * 2 ** max(attempts - 1, 0), cfg.backoff_max_s))


def claim(sessions: sessionmaker[Session], now: datetime, policy: Policy, limit: int) -> list[Claimed]:
    """Lease up to `limit` due pending rows (attempts += 1, retry after the lease if we die)."""
    with sessions() as session, session.begin():
        query = (sa.select(Outbox).where(Outbox.status == "pending", Outbox.next_attempt_at <= now,
                                         Outbox.attempts < policy.delivery.max_attempts)
                 .order_by(Outbox.next_attempt_at, Outbox.id).limit(limit))
        if session.get_bind().dialect.name == "postgresql":
            query = query.with_for_update(skip_locked=True)
        rows = list(session.scalars(query))
        for row in rows:
            row.attempts += 1
            row.next_attempt_at = now + timedelta(seconds=policy.delivery.lease_s)
        return [Claimed(r.id, r.key, r.ticket_id, r.channel, r.target, dict(r.payload), r.attempts) for r in rows]


def park_exhausted(sessions: sessionmaker[Session], now: datetime, policy: Policy) -> int:
    """Park (`failed`) due pending rows already claimed max_attempts times without a recorded outcome."""
    limit = policy.delivery.max_attempts
    with sessions() as session, session.begin():
        query = sa.select(Outbox).where(Outbox.status == "pending", Outbox.next_attempt_at <= now,
                                        Outbox.attempts >= limit)
        if session.get_bind().dialect.name == "postgresql":
            query = query.with_for_update(skip_locked=True)
        rows = list(session.scalars(query))
        for row in rows:
            reason = f"claimed {row.attempts} times without an outcome (the sender stopped mid-send); parked"
            row.status, row.last_error = "failed", reason
            session.add(TicketEvent(ticket_id=row.ticket_id, at=now, actor=ACTOR, kind="delivery", new_value="failed",
                                    reason=reason, data={"key": row.key, "attempts": row.attempts}))
    if rows:
        log.warning("parked %d outbox row(s) claimed %d times without an outcome", len(rows), limit)
    return len(rows)


def mark_sent(session: Session, claimed: Claimed, now: datetime) -> None:
    """Record success; the first delivered `ticket.created` moves a new ticket to `sent`."""
    row = session.get(Outbox, claimed.id)
    row.status, row.sent_at, row.last_error = "sent", now, None
    ticket = session.get(Ticket, claimed.ticket_id)
    if ticket is not None and ticket.status == "new" and claimed.payload.get("kind") == "ticket.created":
        session.add(TicketEvent(ticket_id=ticket.id, at=now, actor=ACTOR, kind="status", old_value="new",
                                new_value="sent", reason=f"delivered by {claimed.channel}", data={"key": claimed.key}))
        ticket.status, ticket.updated_at = "sent", now


def mark_failed(session: Session, claimed: Claimed, error: str, permanent: bool, now: datetime, policy: Policy) -> str:
    """Record a failed attempt: retry later with backoff, or `failed` when permanent or out of attempts."""
    row = session.get(Outbox, claimed.id)
    error = mask(error)
    row.last_error = error[:1000]
    if permanent or claimed.attempts >= policy.delivery.max_attempts:
        row.status = "failed"
        session.add(TicketEvent(ticket_id=claimed.ticket_id, at=now, actor=ACTOR, kind="delivery", new_value="failed",
                                reason=error[:500], data={"key": claimed.key, "attempts": claimed.attempts}))
        return "failed"
    row.next_attempt_at = now + backoff(claimed.attempts, policy)
    return "retry"


def deliver_one(sessions: sessionmaker[Session], claimed: Claimed, now: datetime, policy: Policy) -> str:
    """Send one claimed row and record the outcome in its own transaction."""
    cfg = policy.delivery
    try:
        send(claimed.channel, claimed.target, claimed.key, claimed.payload, cfg.timeout_s, cfg.allow_link_local_targets)
    except Exception as exc:  # noqa: BLE001 - one message's failure, whatever it is, must not end the pass
        permanent = getattr(exc, "permanent", False)
        error = str(exc) if isinstance(exc, (SendFailed, DeliveryConfigError)) else f"{type(exc).__name__}: {exc}"
        log.warning("delivery %s attempt %d failed: %s", claimed.key, claimed.attempts, error)
        with sessions() as session, session.begin():
            return mark_failed(session, claimed, " ".join(error.split()), permanent, now, policy)
    with sessions() as session, session.begin():
        mark_sent(session, claimed, now)
    log.info("delivered %s by %s", claimed.key, claimed.channel)
    return "sent"


def claim_size(policy: Policy) -> int:
    """Rows per claim, so that sending all of them (each up to timeout_s) ends inside the lease."""
    cfg = policy.delivery
    return max(1, int(cfg.lease_s // max(cfg.timeout_s, 1e-3)) - 1)


def queue_backlog(sessions: sessionmaker[Session], now: datetime, policy: Policy) -> int:
    """Queue tickets whose agency got a delivery channel after they were routed (see outbox.backfill)."""
    if not policy.delivery.channels:
        return 0
    with sessions() as session:
        if not undelivered(session, policy):
            return 0
    with sessions.begin() as session:
        serialize(session, "tickets")  # two daemons never queue the same ticket twice
        added = backfill(session, policy, now)
    if added:
        log.info("queued %d outbox row(s) for tickets whose agency now has a channel", added)
    return added


def deliver_pending(sessions: sessionmaker[Session], now: datetime, policy: Policy, limit: int = 100) -> dict[str, int]:
    """Queue tickets whose agency got a channel since (`queued`, only when some), then send due outbox rows;
    returns counts {claimed, sent, retry, failed[, queued]}.

    Rows are claimed a few at a time (see claim_size): a claim's lease must not run out while this
    sender is still working through it, or another daemon would claim and send the same rows.
    """
    counts = {"claimed": 0, "sent": 0, "retry": 0, "failed": 0}
    queued = queue_backlog(sessions, now, policy)
    if queued:
        counts["queued"] = queued
    counts["failed"] += park_exhausted(sessions, now, policy)
    started = time.monotonic()
    while counts["claimed"] < limit:
        at = now + timedelta(seconds=time.monotonic() - started) if counts["claimed"] else now
        batch = claim(sessions, at, policy, min(claim_size(policy), limit - counts["claimed"]))
        if not batch:
            break
        for claimed in batch:
            counts["claimed"] += 1
            counts[deliver_one(sessions, claimed, now, policy)] += 1
    return counts


def requeue_failed(session: Session, now: datetime, ticket_id: int | None = None) -> int:
    """Put failed rows back to pending (e.g. after fixing a channel); the caller commits."""
    query = sa.update(Outbox).where(Outbox.status == "failed")
    if ticket_id is not None:
        query = query.where(Outbox.ticket_id == ticket_id)
    return session.execute(query.values(status="pending", attempts=0, next_attempt_at=now)).rowcount
