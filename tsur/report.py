"""Summaries for people: tickets by agency, decisions by outcome, items by stage."""
from __future__ import annotations

from collections import Counter

import sqlalchemy as sa
from rich.console import Console
from rich.table import Table
from sqlalchemy.orm import Session

from storage.items import count_by_stage
from storage.tables import Decision, Ticket, TicketItem


def tickets_by_agency(session: Session) -> list[dict]:
    """One row per agency: open tickets, high-importance ones, items they gather, overdue."""
    rows = session.execute(
        sa.select(
            Ticket.agency,
            sa.func.count(sa.distinct(Ticket.id)).label("tickets"),
            sa.func.count(sa.distinct(sa.case((Ticket.importance == "high", Ticket.id)))).label("high"),
            sa.func.count(sa.distinct(sa.case((Ticket.sla_state == "overdue", Ticket.id)))).label("overdue"),
            sa.func.count(TicketItem.item_pk).label("items"),
        )
        .join(TicketItem, TicketItem.ticket_id == Ticket.id, isouter=True)
        .where(Ticket.merged_into.is_(None))
        .group_by(Ticket.agency)
        .order_by(sa.desc("tickets"), Ticket.agency)
    )
    return [dict(r._mapping) for r in rows]


def decisions_by_outcome(session: Session) -> Counter:
    return Counter(dict(session.execute(sa.select(Decision.outcome, sa.func.count()).group_by(Decision.outcome)).all()))


def print_summary(session: Session, console: Console | None = None) -> None:
    """Print tickets by agency and the pipeline's state."""
    console = console or Console(width=None if Console().is_terminal else 120)
    table = Table(title="Tickets by agency")
    for col, justify in (("Agency", "left"), ("Tickets", "right"), ("High", "right"), ("Overdue", "right"),
                         ("Items", "right")):
        table.add_column(col, justify=justify)
    for row in tickets_by_agency(session):
        table.add_row(row["agency"] or "(triage: no route)", str(row["tickets"]), str(row["high"]),
                      str(row["overdue"]), str(row["items"]))
    console.print(table)
    outcomes = decisions_by_outcome(session)
    console.print("Decisions: " + ", ".join(f"{k} {v}" for k, v in sorted(outcomes.items())) if outcomes
                  else "Decisions: none yet")
    console.print("Items by stage: " + ", ".join(f"{k} {v}" for k, v in sorted(count_by_stage(session).items())))
