"""Ops corrections: confirm or reassign an item or a ticket, with a reason; every correction becomes labels.

Tickets are changed through routing.lifecycle (which writes ticket events and labels). An item waiting
for review is settled by routing.review.resolve_review (create, attach or ignore; corrections → labels).
An item routing ignored that ops call a complaint is labelled here and joins an open incident or opens a
ticket through routing.stage.

Labels are training data, so only what a person stated becomes one: a correction labels the fields it
changes (and, one item at a time, the fields given with the value they already had); an explicit
`confirm` of one item or ticket labels the fields it confirms. A bulk action (`review confirm`,
`review reassign`, `explicit=False` here) labels only the fields it changed.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from types import SimpleNamespace
from typing import Any

from sqlalchemy.orm import Session

from storage.tables import Label, Ticket
from tsur.places import Places
from tsur.queries import get_item, get_ticket, latest_analysis, latest_decision, ticket_of_item

FIELDS = ("agency", "topic_group", "topic", "municipality", "settlement", "importance")
ANALYSIS_FIELDS = ("topic_group", "topic", "municipality", "settlement", "importance")


@dataclass
class Outcome:
    """What one correction did, for the command's one-line answer."""

    target: str  # "item 12" | "ticket 3"
    labels: int = 0
    events: int = 0
    ticket_id: int | None = None
    note: str = ""
    changes: dict[str, Any] = field(default_factory=dict)


def _need_reason(reason: str) -> str:
    if not (reason or "").strip():
        raise ValueError("a reason is required for every correction (--reason)")
    return reason.strip()


def _places(places: Places | None) -> Places:
    from routing.policy import CONFIG
    from tsur.places import load_places

    return places or load_places(CONFIG)


def normalise(policy, changes: dict[str, Any], *, places: Places | None = None,
              municipality: str | None = None) -> dict[str, Any]:
    """Check and canonicalise corrected values: agency and topic against the policy, municipality and settlement
    against the region's places (short names like «Ялта» as everywhere; the settlement must lie in the new
    municipality, else in `municipality`, the current one), importance."""
    from routing.rules import norm

    out = {k: v for k, v in changes.items() if v is not None}
    if "agency" in out:
        found = policy.agency(out["agency"])
        if found is None:
            raise ValueError(f"unknown agency {out['agency']!r}: see config/agencies.csv")
        out["agency"] = found.name
    if "topic" in out:
        group = policy.topics.get(norm(out["topic"]))
        if group is None:
            raise ValueError(f"unknown topic {out['topic']!r}: see config/routing_topics.csv")
        if "topic_group" in out and norm(out["topic_group"]) != norm(group):
            raise ValueError(f"topic {out['topic']!r} is in group {group!r}, not {out['topic_group']!r}")
        out["topic_group"] = group
    if "topic_group" in out:
        groups = {norm(g): g for g in policy.topics.values()}
        if norm(out["topic_group"]) not in groups:
            raise ValueError(f"unknown topic group {out['topic_group']!r}: see config/topics/groups.csv")
        out["topic_group"] = groups[norm(out["topic_group"])]
    if "municipality" in out:
        found = _places(places).municipality(out["municipality"])
        if found is None:
            raise ValueError(f"unknown municipality {out['municipality']!r}: see config/routing_municipalities.csv")
        out["municipality"] = found
    if "settlement" in out:
        out["settlement"] = _places(places).settlement(out["settlement"], out.get("municipality", municipality))
    if out.get("importance") not in (None, "normal", "high"):
        raise ValueError(f"importance must be normal or high, not {out['importance']!r}")
    return out


def add_label(session: Session, item_pk: int, field_: str, value: Any, previous: Any, *, actor: str, reason: str,
              now: datetime) -> None:
    """One training label from ops."""
    as_text = (lambda v: None if v is None else str(v))  # booleans as "True"/"False", like routing's labels
    session.add(Label(item_pk=item_pk, field=field_, value=as_text(value), previous=as_text(previous), actor=actor,
                      reason=reason, origin="ops", created_at=now))


def confirm_ticket(session: Session, ticket: Ticket, *, actor: str, reason: str, now: datetime,
                   explicit: bool = True) -> Outcome:
    """The ticket's routing is right: a `confirm` event; confirmed by hand (`explicit`), its fields also become
    labels on each of its complaint items, with the item's own prediction as `previous`."""
    from routing.lifecycle import complaint_items, event

    reason = _need_reason(reason)
    event(session, ticket, now, actor, "confirm", None, ticket.agency, reason)
    n = 0
    for pk, own in (complaint_items(session, ticket) if explicit else {}).items():
        for f in FIELDS:
            if getattr(ticket, f) is not None:
                add_label(session, pk, f, getattr(ticket, f), own[f], actor=actor, reason=reason, now=now)
                n += 1
    session.flush()
    return Outcome(f"ticket {ticket.id}", labels=n, events=1, ticket_id=ticket.id)


def reassign_ticket(session: Session, ticket: Ticket, changes: dict[str, Any], *, actor: str, reason: str,
                    now: datetime, policy, places: Places | None = None) -> Outcome:
    """Correct a ticket's fields through routing.lifecycle.reassign (events, labels on its complaint items,
    re-delivery)."""
    import sqlalchemy as sa

    from routing.lifecycle import item_pks, reassign

    reason = _need_reason(reason)
    changes = normalise(policy, changes, places=places, municipality=ticket.municipality)
    if not changes:
        raise ValueError("nothing to change: give --agency, --topic, --topic-group, --municipality, "
                         "--settlement or --importance")
    events = reassign(session, ticket, **changes, actor=actor, reason=reason, now=now, policy=policy)
    labels = session.scalar(sa.select(sa.func.count()).select_from(Label).where(
        Label.item_pk.in_(item_pks(session, ticket)), Label.reason == reason, Label.actor == actor,
        Label.created_at == now, Label.origin == "ops"))
    note = "" if events else "already so: nothing changed"
    return Outcome(f"ticket {ticket.id}", labels=labels, events=len(events), ticket_id=ticket.id,
                   note=note, changes=changes)


def _view(analysis, changes: dict[str, Any]) -> SimpleNamespace:
    """The analysis as ops corrected it (what routing's incident and ticket functions read)."""
    base = {f: getattr(analysis, f) for f in (*ANALYSIS_FIELDS, "id", "complaint_proba", "is_complaint",
                                              "topic_proba", "geo_confidence", "reasons")}
    return SimpleNamespace(**{**base, **{k: v for k, v in changes.items() if k in ANALYSIS_FIELDS}})


def _open_ticket(session: Session, item, view, agency: str | None, rule_reason: str, *, now: datetime,
                 policy) -> tuple[int, str]:
    """Join the item to an open incident or open a ticket for it, as routing does; (ticket id, how)."""
    from routing.decide import Verdict, route
    from routing.incidents import find_incident
    from routing.stage import attach, create_ticket

    if agency is None:
        agency, rule, why = route(policy, view.topic_group, view.topic, view.municipality, view.settlement)
        if agency is None:
            raise ValueError(f"item {item.id}: no agency for this topic and place ({why}); give --agency")
    match = find_incident(session, item, view, policy, now)
    if match is not None:
        attach(session, match, item, view, policy, now)
        return match.ticket.id, f"joined ticket {match.ticket.id}"
    verdict = Verdict("route", "ops:review", rule_reason, agency, "ops:review")
    ticket = create_ticket(session, item, view, verdict, policy, now)
    return ticket.id, f"opened ticket {ticket.id}"


def _confirmations(session: Session, item_pk: int, analysis, fields, *, actor: str, reason: str,
                   now: datetime) -> int:
    """Labels (value = previous) for `fields` a person confirmed as the analysis has them."""
    n = 0
    for f in fields:
        if getattr(analysis, f) is not None:
            add_label(session, item_pk, f, getattr(analysis, f), getattr(analysis, f), actor=actor, reason=reason,
                      now=now)
            n += 1
    return n


def _confirmed(changes: dict[str, Any], analysis, explicit: bool) -> list[str]:
    """Fields one person confirmed about one item: all it shows on a `confirm`, those given with the value they
    had on a `reassign`; none in a bulk action (nobody looked at each item's fields)."""
    if not explicit:
        return []
    shown = ("topic_group", "topic", "municipality", "settlement")
    return list(shown) if not changes else [f for f in shown if f in changes and changes[f] == getattr(analysis, f)]


def _resolve(session: Session, decision, analysis, changes: dict[str, Any], *, actor: str, reason: str,
             now: datetime, policy, is_complaint: bool, attach_to: int | None, explicit: bool) -> Outcome:
    """An open review, settled with routing.review.resolve_review (create, attach or ignore)."""
    from routing.review import FIELDS as CORRECTABLE
    from routing.review import resolve_review

    action = "ignore" if not is_complaint else "attach" if attach_to else "create"
    corrections = {k: v for k, v in changes.items() if k in CORRECTABLE and v != getattr(analysis, k)}
    ticket = resolve_review(session, decision, action, actor=actor, reason=reason, now=now, corrections=corrections,
                            agency=changes.get("agency"), ticket_id=attach_to, policy=policy)
    out = Outcome(f"item {decision.item_pk}", labels=1 + len(corrections) + ("agency" in changes), changes=changes)
    if ticket is None:
        out.note = "marked not a complaint"
        return out
    out.labels += _confirmations(session, decision.item_pk, analysis, _confirmed(changes, analysis, explicit),
                                 actor=actor, reason=reason, now=now)
    out.ticket_id, out.events = ticket.id, 1
    out.note = f"{'joined' if action == 'attach' else 'opened'} ticket {ticket.id}"
    return out


def review_item(session: Session, item_pk: int, changes: dict[str, Any], *, actor: str, reason: str, now: datetime,
                policy, is_complaint: bool = True, attach_to: int | None = None, places: Places | None = None,
                explicit: bool = True) -> Outcome:
    """Settle an item: through its ticket if it has one, through routing's review resolution if it waits for
    review, else (an ignored item ops call a complaint) label it and route it like the route stage would.
    `explicit=False` for bulk actions: no confirmation labels (see the module docstring)."""
    reason = _need_reason(reason)
    ticket_id = ticket_of_item(session, item_pk)
    if ticket_id is not None:
        if not is_complaint or attach_to:
            raise ValueError(f"item {item_pk} is in ticket {ticket_id}: `tsur tickets detach {ticket_id} {item_pk}` "
                             f"(back to review), `tsur tickets merge` or `tsur tickets close` instead")
        ticket = get_ticket(session, ticket_id)
        if changes:
            return reassign_ticket(session, ticket, changes, actor=actor, reason=reason, now=now, policy=policy,
                                   places=places)
        return confirm_ticket(session, ticket, actor=actor, reason=reason, now=now, explicit=explicit)
    item = get_item(session, item_pk)
    analysis, decision = latest_analysis(session, item), latest_decision(session, item_pk)
    if analysis is None:
        raise ValueError(f"item {item_pk} has not been analysed yet: run `tsur run analyse` first")
    changes = normalise(policy, changes, places=places, municipality=analysis.municipality)
    if decision is not None and decision.outcome == "review" and not decision.reviewed:
        return _resolve(session, decision, analysis, changes, actor=actor, reason=reason, now=now, policy=policy,
                        is_complaint=is_complaint, attach_to=attach_to, explicit=explicit)
    if attach_to:
        raise ValueError(f"item {item_pk} is not waiting for review: --attach-to is for review items")
    return _label_and_route(session, item, analysis, decision, changes, actor=actor, reason=reason, now=now,
                            policy=policy, is_complaint=is_complaint, explicit=explicit)


def _label_and_route(session: Session, item, analysis, decision, changes: dict[str, Any], *, actor: str,
                     reason: str, now: datetime, policy, is_complaint: bool, explicit: bool = True) -> Outcome:
    """Label an item that is neither in a ticket nor under review, and route it if it is a complaint."""
    out = Outcome(f"item {item.id}", changes=changes)
    previous_agency = decision.agency if decision else None
    add_label(session, item.id, "is_complaint", is_complaint, analysis.is_complaint, actor=actor, reason=reason,
              now=now)
    out.labels += 1
    if is_complaint:
        confirmed = ANALYSIS_FIELDS + ("agency",) if explicit and not changes else ()
        for f in ANALYSIS_FIELDS + ("agency",):
            old = previous_agency if f == "agency" else getattr(analysis, f)
            value = changes.get(f, old)
            if value is not None and ((f in changes and (explicit or value != old)) or f in confirmed):
                add_label(session, item.id, f, value, old, actor=actor, reason=reason, now=now)
                out.labels += 1
        view = _view(analysis, changes)
        agency = changes.get("agency") or (None if changes.keys() & {"topic_group", "topic", "municipality",
                                                                       "settlement"} else previous_agency)
        out.ticket_id, out.note = _open_ticket(session, item, view, agency, f"reviewed by {actor}: {reason}",
                                               now=now, policy=policy)
    else:
        out.note = "marked not a complaint"
    if decision is not None:
        decision.reviewed = True
        decision.ticket_id = out.ticket_id
    session.flush()
    return out
