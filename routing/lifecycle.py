"""Ticket lifecycle: status changes, reassignment (→ labels), merge and split; every change is an event.

new → sent → in_progress → answered → closed (author satisfied | neutral | unsatisfied); closed → reopen.
"""
from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from routing.decide import route
from routing.errors import InvalidTransition, RoutingError
from routing.incidents import OPEN, refresh_samples
from routing.outbox import enqueue
from routing.policy import Policy
from routing.sla import due_at
from storage.tables import AnalysisRow, Decision, Label, Ticket, TicketEvent, TicketItem

TRANSITIONS = {
    "new": ("sent", "in_progress"),
    "sent": ("in_progress", "answered"),
    "in_progress": ("answered",),
    "answered": ("closed", "in_progress"),
    "closed": ("in_progress",),  # reopen
}
CLOSING_REASONS = {"satisfied": "Автор доволен", "neutral": "Автор нейтрален", "unsatisfied": "Автор недоволен"}
CORRECTABLE = ("agency", "topic_group", "topic", "municipality", "settlement", "importance")


def _policy(policy: Policy | None) -> Policy:
    from routing.stage import default_policy

    return policy or default_policy()


def _require(actor: str, reason: str) -> None:
    if not actor or not (reason or "").strip():
        raise RoutingError("every ticket change needs an actor and a reason")


def event(session: Session, ticket: Ticket, now: datetime, actor: str, kind: str, old=None, new=None,
          reason: str | None = None, **data) -> TicketEvent:
    """Record one change of a ticket."""
    row = TicketEvent(ticket_id=ticket.id, at=now, actor=actor, kind=kind, old_value=None if old is None else str(old),
                      new_value=None if new is None else str(new), reason=reason, data=data)
    session.add(row)
    ticket.updated_at = now
    return row


def change_status(session: Session, ticket: Ticket, new_status: str, *, actor: str, reason: str,
                  closing_reason: str | None = None, now: datetime, policy: Policy | None = None) -> TicketEvent:
    """Move a ticket along the lifecycle; closing needs a closing reason, reopening restarts the SLA clock."""
    _require(actor, reason)
    old = ticket.status
    if new_status not in TRANSITIONS.get(old, ()):
        allowed = ", ".join(TRANSITIONS.get(old, ())) or "nothing"
        raise InvalidTransition(f"ticket #{ticket.id}: {old} → {new_status} not allowed (from {old}: {allowed})")
    if ticket.merged_into is not None:
        raise InvalidTransition(f"ticket #{ticket.id} was merged into #{ticket.merged_into}; change that one")
    if new_status == "closed" and closing_reason not in CLOSING_REASONS:
        raise InvalidTransition(f"closing needs a reason: one of {', '.join(CLOSING_REASONS)}")
    kind = "reopen" if old == "closed" else "status"
    row = event(session, ticket, now, actor, kind, old, new_status, reason, closing_reason=closing_reason)
    ticket.status = new_status
    if new_status == "closed":
        ticket.closing_reason, ticket.closed_at = closing_reason, now
    elif old == "closed":
        ticket.closing_reason, ticket.closed_at, ticket.sla_state = None, None, "ok"
        ticket.due_at = due_at(now, ticket.importance, _policy(policy))
    session.flush()
    return row


def reopen(session: Session, ticket: Ticket, *, actor: str, reason: str, now: datetime,
           policy: Policy | None = None) -> TicketEvent:
    """Reopen a closed ticket (→ in_progress, a `reopen` event, a new due time); any other ticket is refused."""
    if ticket.merged_into is not None:
        raise InvalidTransition(f"ticket #{ticket.id} was merged into #{ticket.merged_into}; reopen that one")
    if ticket.status != "closed":
        raise InvalidTransition(f"ticket #{ticket.id} is {ticket.status}, not closed: only closed tickets reopen")
    return change_status(session, ticket, "in_progress", actor=actor, reason=reason, now=now, policy=policy)


def item_pks(session: Session, ticket: Ticket) -> list[int]:
    """The items of a ticket."""
    return list(session.scalars(sa.select(TicketItem.item_pk).where(TicketItem.ticket_id == ticket.id)
                                .order_by(TicketItem.item_pk)))


def complaint_items(session: Session, ticket: Ticket) -> dict[int, dict[str, str | None]]:
    """The ticket's complaint items (by their latest is_complaint label, else their latest analysis), each with
    its own predicted values — analysis fields and its decision's agency — which labels record as `previous`.

    Other items of the incident (a «Спасибо…» comment the model calls no complaint) get no labels from
    the ticket's corrections.
    """
    pks = item_pks(session, ticket)
    analyses = {a.item_pk: a for a in session.scalars(sa.select(AnalysisRow).where(AnalysisRow.item_pk.in_(pks))
                                                      .order_by(AnalysisRow.id))}
    agencies = dict(session.execute(sa.select(Decision.item_pk, Decision.agency).where(Decision.item_pk.in_(pks))
                                    .order_by(Decision.id)).tuples().all())
    said = dict(session.execute(sa.select(Label.item_pk, Label.value).where(Label.item_pk.in_(pks),
                                                                             Label.field == "is_complaint")
                                .order_by(Label.id)).tuples().all())
    out = {}
    for pk in pks:
        analysis = analyses.get(pk)
        if (said[pk] == "True") if pk in said else bool(analysis is not None and analysis.is_complaint):
            own = {f: getattr(analysis, f, None) for f in CORRECTABLE if f != "agency"}
            out[pk] = {**own, "agency": agencies.get(pk)}
    return out


def reassign(session: Session, ticket: Ticket, *, agency: str | None = None, topic_group: str | None = None,
             topic: str | None = None, municipality: str | None = None, settlement: str | None = None,
             importance: str | None = None, actor: str, reason: str, now: datetime,
             policy: Policy | None = None) -> list[TicketEvent]:
    """Correct a ticket's fields; each corrected field becomes a label on each of its items (training data).

    Without an explicit agency, a changed topic or place re-routes the ticket by the rules.
    """
    _require(actor, reason)
    if ticket.merged_into is not None:
        raise InvalidTransition(f"ticket #{ticket.id} was merged into #{ticket.merged_into}; reassign that one")
    if ticket.status == "closed":
        raise InvalidTransition(f"ticket #{ticket.id} is closed: reopen it first (tsur tickets reopen {ticket.id})")
    policy = _policy(policy)
    wanted = {"agency": agency, "topic_group": topic_group, "topic": topic, "municipality": municipality,
              "settlement": settlement, "importance": importance}
    if agency is not None:
        found = policy.agency(agency)
        if found is None:
            raise RoutingError(f"unknown agency {agency!r}: see config/agencies.csv")
        wanted["agency"] = found.name
    if importance is not None and importance not in ("normal", "high"):
        raise RoutingError(f"importance must be normal or high, not {importance!r}")
    changes = {f: v for f, v in wanted.items() if v is not None and v != getattr(ticket, f)}
    if not changes:
        return []
    labelled, events = complaint_items(session, ticket), []
    for field, value in changes.items():
        events.append(event(session, ticket, now, actor, "reassign", getattr(ticket, field), value, reason, field=field))
        for pk, own in labelled.items():
            session.add(Label(item_pk=pk, field=field, value=value, previous=own[field], actor=actor,
                              reason=reason, origin="ops", created_at=now))
        setattr(ticket, field, value)
    if agency is None and changes.keys() & {"topic_group", "topic", "municipality", "settlement"}:
        rerouted, rule, why = route(policy, ticket.topic_group, ticket.topic, ticket.municipality, ticket.settlement)
        if rerouted != ticket.agency:
            events.append(event(session, ticket, now, actor, "reassign", ticket.agency, rerouted, why, field="agency",
                                rule=rule))
            ticket.agency, changes["agency"] = rerouted, rerouted
    if "importance" in changes:
        ticket.due_at = due_at(ticket.created_at, ticket.importance, policy)
    if "agency" in changes:
        _hand_over(session, ticket, events[-1], now, policy, actor)
    session.flush()
    return events


def _hand_over(session: Session, ticket: Ticket, last: TicketEvent, now: datetime, policy: Policy, actor: str) -> None:
    """A ticket given to another agency is delivered to it afresh."""
    if ticket.status == "sent":
        event(session, ticket, now, actor, "status", "sent", "new", "reassigned to another agency")
        ticket.status = "new"
    session.flush()
    enqueue(session, policy, ticket, "ticket.created", f"ticket:{ticket.id}:assigned:{last.id}", now)


def _live(ticket: Ticket) -> None:
    if ticket.merged_into is not None or ticket.status not in OPEN:
        raise InvalidTransition(f"ticket #{ticket.id} is {ticket.status}"
                                + (f", merged into #{ticket.merged_into}" if ticket.merged_into else ""))


def merge(session: Session, src: Ticket, dst: Ticket, *, actor: str, reason: str, now: datetime) -> TicketEvent:
    """Move every item of `src` into `dst`; `src` is closed as merged and points at `dst`."""
    _require(actor, reason)
    if src.id == dst.id:
        raise InvalidTransition(f"cannot merge ticket #{src.id} into itself")
    _live(src)
    _live(dst)
    moved = item_pks(session, src)
    session.execute(sa.update(TicketItem).where(TicketItem.ticket_id == src.id).values(ticket_id=dst.id, via="merge"))
    event(session, src, now, actor, "merge", src.status, f"merged into #{dst.id}", reason, into=dst.id, items=moved)
    row = event(session, dst, now, actor, "merge", None, f"absorbed #{src.id}", reason, source=src.id, items=moved)
    src.status, src.closing_reason, src.closed_at, src.merged_into = "closed", "merged", now, dst.id
    if src.importance == "high":
        dst.importance = "high"
    if src.due_at and (dst.due_at is None or src.due_at < dst.due_at):
        dst.due_at = src.due_at
    refresh_samples(session, dst)
    session.flush()
    return row


def split(session: Session, ticket: Ticket, pks: list[int], *, actor: str, reason: str, now: datetime,
          policy: Policy | None = None) -> Ticket:
    """Move some items of a ticket into a new ticket with the same fields; returns the new ticket."""
    _require(actor, reason)
    _live(ticket)
    policy = _policy(policy)
    current = set(item_pks(session, ticket))
    chosen = sorted(set(pks))
    if not chosen or not set(chosen) <= current or set(chosen) == current:
        raise RoutingError(f"split of ticket #{ticket.id} needs some, not all, of its items {sorted(current)}")
    new = Ticket(**{f: getattr(ticket, f) for f in ("agency", "topic_group", "topic", "municipality", "settlement",
                                                     "importance", "summary", "rule", "rules_version")},
                 status="new", sla_state="ok", created_at=now, updated_at=now,
                 due_at=due_at(now, ticket.importance, policy))
    session.add(new)
    session.flush()
    session.execute(sa.update(TicketItem).where(TicketItem.item_pk.in_(chosen)).values(ticket_id=new.id, via="split"))
    event(session, ticket, now, actor, "split", None, f"items moved to #{new.id}", reason, into=new.id, items=chosen)
    event(session, new, now, actor, "split", None, f"split from #{ticket.id}", reason, source=ticket.id, items=chosen)
    enqueue(session, policy, new, "ticket.created", f"ticket:{new.id}:created", now)
    refresh_samples(session, ticket)
    refresh_samples(session, new)
    session.flush()
    return new


def detach(session: Session, ticket: Ticket, item_pk: int, *, to: str, actor: str, reason: str, now: datetime,
           policy: Policy | None = None) -> Ticket | None:
    """Take one wrongly attached item out of a ticket: into a new ticket of its own (`to="ticket"`, like split)
    or back to the review queue (`to="review"`); returns the new ticket, or None for review."""
    _require(actor, reason)
    if to == "ticket":
        return split(session, ticket, [item_pk], actor=actor, reason=reason, now=now, policy=policy)
    if to != "review":
        raise RoutingError(f"detach to 'ticket' or 'review', not {to!r}")
    _live(ticket)
    current = item_pks(session, ticket)
    if item_pk not in current:
        raise RoutingError(f"item {item_pk} is not in ticket #{ticket.id} (its items: {current})")
    if current == [item_pk]:
        raise RoutingError(f"item {item_pk} is the only item of ticket #{ticket.id}: close or reassign the ticket")
    decision = session.scalar(sa.select(Decision).where(Decision.item_pk == item_pk).order_by(Decision.id.desc()))
    if decision is None:
        raise RoutingError(f"item {item_pk} has no routing decision to send back to review")
    session.execute(sa.delete(TicketItem).where(TicketItem.item_pk == item_pk))
    event(session, ticket, now, actor, "detach", item_pk, "review", reason, item_pk=item_pk, decision=decision.id,
          was=decision.outcome, rule=decision.rule)
    decision.reason = f"detached from ticket #{ticket.id} by {actor}: {reason} (was {decision.outcome}, {decision.rule})"
    decision.outcome, decision.rule, decision.reviewed, decision.ticket_id = "review", "review:detached", False, None
    refresh_samples(session, ticket)
    session.flush()
    return None
