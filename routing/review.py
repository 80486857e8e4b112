"""Resolve the human review queue: confirm as a ticket, attach to a ticket, or dismiss; corrections → labels.

Example: resolve_review(session, decision, "create", actor="ops:anna", reason="проверено",
                        now=now, corrections={"municipality": "городской округ Керчь"})
"""
from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from routing.decide import route
from routing.errors import RoutingError
from routing.incidents import add_sample, live
from routing.lifecycle import _policy, _require, event
from routing.outbox import enqueue
from routing.policy import Policy
from routing.sla import due_at
from storage.tables import AnalysisRow, Decision, Item, Label, Ticket, TicketEvent, TicketItem

FIELDS = ("topic_group", "topic", "municipality", "settlement", "importance")
ACTIONS = ("create", "attach", "ignore")


def pending_reviews(session: Session, limit: int = 50) -> list[Decision]:
    """Unresolved review decisions, oldest first."""
    query = (sa.select(Decision).where(Decision.outcome == "review", Decision.reviewed.is_(False))
             .order_by(Decision.id).limit(limit))
    return list(session.scalars(query))


def _label(session: Session, item_pk: int, field: str, value: Any, previous: Any, actor: str, reason: str,
           now: datetime) -> None:
    session.add(Label(item_pk=item_pk, field=field, value=None if value is None else str(value),
                      previous=None if previous is None else str(previous), actor=actor, reason=reason,
                      origin="ops", created_at=now))


def resolve_review(session: Session, decision: Decision, action: str, *, actor: str, reason: str, now: datetime,
                   corrections: dict[str, str] | None = None, agency: str | None = None,
                   ticket_id: int | None = None, policy: Policy | None = None) -> Ticket | None:
    """Resolve one review decision; returns the ticket it ended up in (None when dismissed). The caller commits."""
    _require(actor, reason)
    policy = _policy(policy)
    if decision.outcome != "review" or decision.reviewed:
        raise RoutingError(f"decision #{decision.id} is not an open review")
    if action not in ACTIONS:
        raise RoutingError(f"action must be one of {', '.join(ACTIONS)}, not {action!r}")
    unknown = sorted(set(corrections or {}) - set(FIELDS))
    if unknown:
        raise RoutingError(f"cannot correct {', '.join(unknown)}: only {', '.join(FIELDS)}")
    analysis = session.get(AnalysisRow, decision.analysis_id)
    item = session.get(Item, decision.item_pk)
    values = {f: getattr(analysis, f) for f in FIELDS}
    values.update(corrections or {})
    target = None
    if action == "create":
        target = _agency(policy, values, agency)
    elif action == "attach":
        target = live(session, session.get(Ticket, ticket_id)) if ticket_id else None
        if target is None:
            raise RoutingError(f"ticket #{ticket_id} does not exist or is closed")
    decision.reviewed = True
    _label(session, item.id, "is_complaint", action != "ignore", analysis.is_complaint, actor, reason, now)
    if action == "ignore":
        session.flush()
        return None
    for field in FIELDS:
        if values[field] != getattr(analysis, field):
            _label(session, item.id, field, values[field], getattr(analysis, field), actor, reason, now)
    if action == "attach":
        ticket = _attach(session, item, target, actor, reason, now, policy)
    else:
        if agency is not None:
            _label(session, item.id, "agency", target[0], decision.agency, actor, reason, now)
        ticket = _create(session, item, values, target, actor, reason, now, policy)
    decision.ticket_id = ticket.id
    session.flush()
    return ticket


def _agency(policy: Policy, values: dict, agency: str | None) -> tuple[str, str]:
    """(agency name, rule) for a confirmed item: the named agency, or the rules' choice."""
    if agency is not None:
        found = policy.agency(agency)
        if found is None:
            raise RoutingError(f"unknown agency {agency!r}: see config/agencies.csv")
        return found.name, "ops"
    name, rule, _ = route(policy, values["topic_group"], values["topic"], values["municipality"], values["settlement"])
    if name is None:
        raise RoutingError("no rule routes this item: name the agency")
    return name, rule


def _create(session: Session, item: Item, values: dict, target: tuple[str, str], actor: str, reason: str,
            now: datetime, policy: Policy) -> Ticket:
    name, rule = target
    ticket = Ticket(agency=name, status="new", summary=(item.text or "")[:500], rule=rule, rules_version=policy.version,
                    created_at=now, updated_at=now, due_at=due_at(now, values["importance"], policy), **values)
    session.add(ticket)
    session.flush()
    session.add(TicketItem(item_pk=item.id, ticket_id=ticket.id, via="ops", added_at=now))
    add_sample(ticket, item.text)
    session.add(TicketEvent(ticket_id=ticket.id, at=now, actor=actor, kind="create", new_value=name, reason=reason,
                            data={"item_pk": item.id, "rule": rule, "from": "review"}))
    enqueue(session, policy, ticket, "ticket.created", f"ticket:{ticket.id}:created", now, [item])
    return ticket


def _attach(session: Session, item: Item, ticket: Ticket, actor: str, reason: str, now: datetime,
            policy: Policy) -> Ticket:
    session.add(TicketItem(item_pk=item.id, ticket_id=ticket.id, via="ops", added_at=now))
    add_sample(ticket, item.text)
    event(session, ticket, now, actor, "attach", None, str(item.id), reason, item_pk=item.id, rule="ops")
    if policy.delivery.notify_attach:
        enqueue(session, policy, ticket, "ticket.item_added", f"ticket:{ticket.id}:item:{item.id}", now, [item])
    return ticket
