"""The route stage: one decision per analysed item → ticket, attachment, review or ignore.

Example: decisions = route_items(session, pairs, now=now, policy=policy); session.commit()  # by the caller
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from routing.decide import Verdict, decide
from routing.incidents import Match, add_sample, find_incident
from routing.outbox import enqueue
from routing.policy import Policy, load_policy
from routing.sla import due_at
from storage.tables import AnalysisRow, Item, Ticket, TicketEvent, TicketItem
from storage.tables import Decision as DecisionRow
from tsur.records import Decision

ACTOR = "system:route"
SUMMARY_CHARS = 500
_DEFAULT: Policy | None = None


def default_policy() -> Policy:
    """The repo config policy, loaded once."""
    global _DEFAULT
    if _DEFAULT is None:
        _DEFAULT = load_policy()
    return _DEFAULT


def route_items(session: Session, pairs: list[tuple[Item, AnalysisRow]], *, now: datetime,
                policy: Policy | None = None) -> list[Decision]:
    """Decide for each (item, analysis), write decisions/tickets/outbox, set item.stage = done. No commit."""
    policy = policy or default_policy()
    decisions = [route_one(session, item, analysis, now, policy) for item, analysis in pairs]
    session.flush()
    return decisions


def route_one(session: Session, item: Item, analysis: AnalysisRow, now: datetime, policy: Policy) -> Decision:
    """The decision for one item, with its side effects."""
    verdict = decide(policy, analysis)
    outcome, ticket_id, rule, reason, scores = verdict.outcome, None, verdict.rule, verdict.reason, dict(verdict.scores)
    if verdict.outcome == "route":
        match = find_incident(session, item, analysis, policy, now)
        if match:
            attach(session, match, item, analysis, policy, now)
            outcome, ticket_id, rule = "attach", match.ticket.id, match.rule
            reason = f"joins ticket #{match.ticket.id} ({match.rule}, similarity {match.similarity:.2f}); {verdict.reason}"
            scores["similarity"] = match.similarity
        else:
            ticket = create_ticket(session, item, analysis, verdict, policy, now)
            outcome, ticket_id = "create", ticket.id
    session.add(DecisionRow(item_pk=item.id, analysis_id=analysis.id, outcome=outcome, rule=rule, reason=reason,
                            agency=verdict.agency, ticket_id=ticket_id, scores=scores, rules_version=policy.version,
                            created_at=now))
    item.stage = "done"
    return Decision(item.id, outcome, rule, reason, verdict.agency, ticket_id, scores)


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
