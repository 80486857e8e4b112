"""The route stage: one decision per analysed item → ticket, attachment, review or ignore.

Example: decisions = route_items(session, pairs, now=now, policy=policy); session.commit()  # by the caller
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from routing.decide import NOTICE_RULE, Verdict, decide
from routing.incidents import OPEN, Match, add_sample, find_incident, find_source_incident, linked_hashes, window_start
from routing.outbox import enqueue
from routing.policy import Policy, load_policy
from routing.sla import due_at
from storage.tables import AnalysisRow, Item, Ticket, TicketEvent, TicketItem
from storage.tables import Decision as DecisionRow
from tsur.records import Decision

ACTOR = "system:route"
KEPT_RULE = "incident:kept"  # an item already in a ticket, re-analysed after an edit, stays in it
FLAG_KIND = "misrouted"  # = tsur.queries.FLAG_KIND: the ticket waits in the review queue until confirmed/reassigned
SUMMARY_CHARS = 500
_DEFAULT: Policy | None = None


def default_policy() -> Policy:
    """The repo config policy, loaded once."""
    global _DEFAULT
    if _DEFAULT is None:
        _DEFAULT = load_policy()
    return _DEFAULT


@dataclass
class Known:
    """What a batch loaded about its items in three queries: their earlier decisions, their tickets, and
    which of their text hashes linked items have (kept up to date as the batch links items).

    Asking per item would cost round trips each and flush the previous item's rows one by one.
    """

    decisions: dict[int, list[DecisionRow]] = field(default_factory=dict)
    tickets: dict[int, Ticket] = field(default_factory=dict)
    hashes: set[str] | None = None  # None: unknown, look each one up


def known_about(session: Session, items: list[Item], since: datetime | None = None) -> Known:
    """Earlier decisions and current tickets of these items (and, with `since`, their linked text hashes)."""
    pks = [item.id for item in items]
    decisions: dict[int, list[DecisionRow]] = {}
    for row in session.scalars(sa.select(DecisionRow).where(DecisionRow.item_pk.in_(pks))):
        decisions.setdefault(row.item_pk, []).append(row)
    linked = session.execute(sa.select(TicketItem.item_pk, Ticket).join(Ticket, Ticket.id == TicketItem.ticket_id)
                             .where(TicketItem.item_pk.in_(pks)))
    hashes = None if since is None else linked_hashes(session, {i.text_hash for i in items if i.text_hash}, since)
    return Known(decisions, {pk: ticket for pk, ticket in linked}, hashes)


def route_items(session: Session, pairs: list[tuple[Item, AnalysisRow]], *, now: datetime,
                policy: Policy | None = None) -> list[Decision]:
    """Decide for each (item, analysis), write decisions/tickets/outbox, set item.stage = done. No commit."""
    policy = policy or default_policy()
    known = known_about(session, [item for item, _ in pairs], window_start(policy, now))
    decisions = []
    for item, analysis in pairs:
        decisions.append(route_one(session, item, analysis, now, policy, known))
        if decisions[-1].ticket_id is not None and item.text_hash:
            known.hashes.add(item.text_hash)
    session.flush()
    return decisions


def route_one(session: Session, item: Item, analysis: AnalysisRow, now: datetime, policy: Policy,
              known: Known | None = None) -> Decision:
    """The decision for one item, with its side effects; an analysis already decided is not decided again.

    `known` (from known_about, for a batch whose items are distinct) saves the per-item lookups."""
    if known is None:
        known = known_about(session, [item])
    earlier = known.decisions.get(item.id, [])
    stored = next((row for row in earlier if row.analysis_id == analysis.id), None)
    if stored is not None:  # routed again (e.g. put back by hand): idempotent
        item.stage = "done"
        return as_record(stored)
    verdict = decide(policy, analysis)
    current = known.tickets.get(item.id)
    if current is not None:
        decision = keep(session, item, analysis, verdict, current, policy, now)
    elif verdict.outcome == "route":
        decision = route_new(session, item, analysis, verdict, policy, now, known.hashes)
    elif verdict.outcome == "review" and (analysis.is_complaint or analysis.importance == "high"):
        decision = join_source(session, item, analysis, verdict, policy, now, known.hashes)
    else:
        decision = Decision(item.id, verdict.outcome, verdict.rule, verdict.reason, verdict.agency, None,
                            dict(verdict.scores), verdict.route_rule)
    supersede(earlier, now)
    save(session, decision, analysis, policy, now)
    item.stage = "done"
    return decision


def as_record(row: DecisionRow) -> Decision:
    """A stored decision as the record route_items returns."""
    return Decision(row.item_pk, row.outcome, row.rule, row.reason, row.agency, row.ticket_id, dict(row.scores or {}),
                    row.route_rule)


def supersede(earlier: list[DecisionRow], now: datetime) -> None:
    """Open reviews of an item's earlier revision leave the queue: the new decision replaces them."""
    for row in earlier:
        if row.outcome == "review" and not row.reviewed:
            row.reviewed, row.reason = True, f"{row.reason} (superseded: re-analysed {now:%Y-%m-%d %H:%M} UTC)"


def save(session: Session, decision: Decision, analysis: AnalysisRow, policy: Policy, now: datetime) -> None:
    """Store one decision, with the routing rule behind it (also for reviews)."""
    session.add(DecisionRow(item_pk=decision.item_pk, analysis_id=analysis.id, outcome=decision.outcome,
                            rule=decision.rule, reason=decision.reason, agency=decision.agency,
                            route_rule=decision.route_rule, ticket_id=decision.ticket_id, scores=decision.scores,
                            rules_version=policy.version, created_at=now))


def route_new(session: Session, item: Item, analysis: AnalysisRow, verdict: Verdict, policy: Policy,
              now: datetime, hashes: set[str] | None = None) -> Decision:
    """A confident item: join an open incident, or open a ticket."""
    scores = dict(verdict.scores)
    match = find_incident(session, item, analysis, policy, now, hashes)
    if match is None:
        ticket = create_ticket(session, item, analysis, verdict, policy, now)
        return Decision(item.id, "create", verdict.rule, verdict.reason, verdict.agency, ticket.id, scores,
                        verdict.route_rule)
    attach(session, match, item, analysis, policy, now)
    scores["similarity"] = match.similarity
    reason = f"joins ticket #{match.ticket.id} ({match.rule}, similarity {match.similarity:.2f}); {verdict.reason}"
    return Decision(item.id, "attach", match.rule, reason, verdict.agency, match.ticket.id, scores, verdict.route_rule)


def join_source(session: Session, item: Item, analysis: AnalysisRow, verdict: Verdict, policy: Policy,
                now: datetime, hashes: set[str] | None = None) -> Decision:
    """A complaint (or high-importance item) that alone would go to review joins the open ticket of the post it
    comments on or reposts: the incident supplies topic and place. Otherwise it goes to review."""
    match = find_source_incident(session, item, analysis, policy, now, hashes)
    if match is None:
        return Decision(item.id, "review", verdict.rule, verdict.reason, verdict.agency, None, dict(verdict.scores),
                        verdict.route_rule)
    attach(session, match, item, analysis, policy, now)
    ticket = match.ticket
    reason = (f"joins ticket #{ticket.id} ({match.rule}, similarity {match.similarity:.2f}): the incident supplies "
              f"topic and place ({ticket.topic_group or '-'}, {ticket.municipality or '-'}); alone it would go to "
              f"review: {verdict.reason}")
    return Decision(item.id, "attach", match.rule, reason, ticket.agency, ticket.id,
                    {**verdict.scores, "similarity": match.similarity}, verdict.route_rule)


def keep(session: Session, item: Item, analysis: AnalysisRow, verdict: Verdict, ticket: Ticket, policy: Policy,
         now: datetime) -> Decision:
    """An item already in a ticket (edited, re-analysed) stays there; what its new analysis says otherwise is
    recorded on the ticket (and flags an open ticket for review), never acted on silently."""
    changed = differences(policy, ticket, analysis, verdict)
    said = "; ".join(changed) or "nothing that changes the ticket"
    reason = f"item {item.id} re-analysed (revision {item.revision}): stays in ticket #{ticket.id}; {said}"
    session.add(TicketEvent(ticket_id=ticket.id, at=now, actor=ACTOR, kind="reanalysed", new_value=str(item.id),
                            reason=reason, data={"item_pk": item.id, "revision": item.revision,
                                                 "verdict": verdict.outcome, "changes": changed}))
    if changed and ticket.status in OPEN and ticket.merged_into is None:
        session.add(TicketEvent(ticket_id=ticket.id, at=now, actor=ACTOR, kind=FLAG_KIND, old_value=ticket.agency,
                                reason=reason, data={"by": ACTOR, "item_pk": item.id}))
    if (analysis.importance == "high" and ticket.importance != "high" and ticket.status in OPEN
            and verdict.rule != NOTICE_RULE):  # an urgent announcement does not make the complaint urgent
        escalate(session, ticket, now, policy)
    ticket.updated_at = now
    return Decision(item.id, "attach", KEPT_RULE, reason, ticket.agency, ticket.id, dict(verdict.scores),
                    verdict.route_rule)


def differences(policy: Policy, ticket: Ticket, analysis: AnalysisRow, verdict: Verdict) -> list[str]:
    """What a confident new analysis says that contradicts the ticket: not a complaint (an official notice), another
    place or topic."""
    found, t = [], policy.thresholds
    if verdict.rule == NOTICE_RULE:
        found.append(f"now an official notice, not a complaint (complaint_proba {analysis.complaint_proba:.2f})")
    elif verdict.outcome == "ignore":
        found.append(f"no longer a complaint (complaint_proba {analysis.complaint_proba:.2f})")
    if (analysis.municipality and ticket.municipality and analysis.municipality != ticket.municipality
            and (analysis.geo_confidence or 0.0) >= t.geo):
        found.append(f"another municipality: {analysis.municipality}, not {ticket.municipality}")
    if (analysis.topic_group and ticket.topic_group and analysis.topic_group != ticket.topic_group
            and (analysis.topic_proba or 0.0) >= t.for_topic(analysis.topic_group)):
        found.append(f"another topic group: {analysis.topic_group}, not {ticket.topic_group}")
    return found


def create_ticket(session: Session, item: Item, analysis: AnalysisRow, verdict: Verdict, policy: Policy,
                  now: datetime) -> Ticket:
    """A new ticket for the item, its first event and its outbox rows."""
    ticket = Ticket(agency=verdict.agency, topic_group=analysis.topic_group, topic=analysis.topic,
                    municipality=analysis.municipality, settlement=analysis.settlement,
                    importance=analysis.importance or "normal", status="new", summary=(item.text or "")[:SUMMARY_CHARS],
                    rule=verdict.rule, rules_version=policy.version, sla_state="ok", created_at=now, updated_at=now,
                    due_at=due_at(now, analysis.importance, policy))
    session.add(ticket)
    session.flush()
    session.add(TicketItem(item_pk=item.id, ticket_id=ticket.id, via="create", added_at=now))
    add_sample(ticket, item.text)
    session.add(TicketEvent(ticket_id=ticket.id, at=now, actor=ACTOR, kind="create", new_value=verdict.agency,
                            reason=verdict.reason, data={"item_pk": item.id, "rule": verdict.rule, **verdict.scores}))
    enqueue(session, policy, ticket, "ticket.created", f"ticket:{ticket.id}:created", now, [item])
    return ticket


def attach(session: Session, match: Match, item: Item, analysis: AnalysisRow, policy: Policy, now: datetime) -> None:
    """Join the item to the incident's ticket; high importance escalates the ticket."""
    ticket = match.ticket
    session.add(TicketItem(item_pk=item.id, ticket_id=ticket.id, via=f"attach:{match.rule}"[:64], added_at=now))
    add_sample(ticket, item.text)
    session.add(TicketEvent(ticket_id=ticket.id, at=now, actor=ACTOR, kind="attach", new_value=str(item.id),
                            reason=f"{match.rule}, similarity {match.similarity:.2f}",
                            data={"item_pk": item.id, "rule": match.rule, "similarity": match.similarity}))
    if analysis.importance == "high" and ticket.importance != "high":
        escalate(session, ticket, now, policy)
    ticket.updated_at = now
    if policy.delivery.notify_attach:
        enqueue(session, policy, ticket, "ticket.item_added", f"ticket:{ticket.id}:item:{item.id}", now, [item])


def escalate(session: Session, ticket: Ticket, now: datetime, policy: Policy) -> None:
    """Raise a ticket to high importance; its due time can only move earlier."""
    session.add(TicketEvent(ticket_id=ticket.id, at=now, actor=ACTOR, kind="importance", old_value=ticket.importance,
                            new_value="high", reason="a high-importance item joined the incident"))
    ticket.importance = "high"
    new_due = due_at(now, "high", policy)
    if ticket.due_at is None or new_due < ticket.due_at:
        ticket.due_at = new_due
