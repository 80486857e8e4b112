"""Ops: list tickets, the overdue ones, close with a closing reason, reopen, move along the lifecycle."""
from __future__ import annotations

from enum import Enum
from typing import Optional

import typer

from storage.tables import utcnow
from tsur import queries
from tsur.cli.output import print_rows, say
from tsur.cli.state import State, state

app = typer.Typer(no_args_is_help=True, help="Tickets (incidents): list, overdue, close, reopen, status, flag.\n\n"
                  "Example: tsur tickets list --open --agency Ялта")

COLUMNS = {"id": "Id", "status": "Status", "sla_state": "SLA", "due_at": "Due", "agency": "Agency",
           "topic_group": "Topic group", "municipality": "Municipality", "importance": "Imp.", "items": "Items",
           "summary": "Summary"}
WIDTHS = {"agency": 30, "summary": 40, "topic_group": 20}
ReasonOpt = typer.Option(..., "--reason", "-r", help="Why (stored in the ticket's history).")


class Closing(str, Enum):
    satisfied = "satisfied"
    neutral = "neutral"
    unsatisfied = "unsatisfied"


@app.command("list")
def list_tickets(ctx: typer.Context,
                 status: Optional[str] = typer.Option(None, "--status", help="new, sent, in_progress, answered, "
                                                      "closed."),
                 open_only: bool = typer.Option(False, "--open", help="Only tickets not closed."),
                 agency: Optional[str] = typer.Option(None, "--agency", help="Agency contains this."),
                 municipality: Optional[str] = typer.Option(None, "--municipality", help="Municipality contains this."),
                 topic: Optional[str] = typer.Option(None, "--topic", help="Topic group or topic contains this."),
                 limit: int = typer.Option(100, "--limit", help="At most this many (0: all).")) -> None:
    """List tickets, newest first, filtered.

    Example: tsur tickets list --open --municipality Симферополь
    """
    st = state(ctx)
    with st.sessions() as s:
        rows = queries.list_tickets(s, status=status, open_only=open_only, agency=agency, municipality=municipality,
                                    topic=topic, limit=limit or None)
    print_rows(st, rows, COLUMNS, title="Tickets", widths=WIDTHS, empty="no tickets")


@app.command("overdue")
def overdue(ctx: typer.Context,
            agency: Optional[str] = typer.Option(None, "--agency", help="Agency contains this.")) -> None:
    """List open tickets past their due time (or marked overdue by the SLA check), oldest due first.

    Example: tsur --json tickets overdue --agency Минздрав
    """
    st = state(ctx)
    with st.sessions() as s:
        rows = queries.list_tickets(s, agency=agency, overdue_at=utcnow())
    rows.sort(key=lambda r: (r["due_at"] is None, r["due_at"] or r["created_at"]))
    print_rows(st, rows, COLUMNS, title="Overdue tickets", widths=WIDTHS, empty="no overdue tickets")


def _move(st: State, ticket_id: int, new_status: str, reason: str, closing: str | None = None) -> None:
    from routing.lifecycle import change_status

    with st.sessions.begin() as s:
        ticket = queries.get_ticket(s, ticket_id)
        old = ticket.status
        change_status(s, ticket, new_status, actor=st.actor, reason=reason, closing_reason=closing, now=utcnow(),
                      policy=st.policy)
    say(st, f"ticket {ticket_id}: {old} → {new_status}" + (f" ({closing})" if closing else ""),
        {"id": ticket_id, "old": old, "status": new_status, "closing_reason": closing})


@app.command("close")
def close(ctx: typer.Context, ticket_id: int = typer.Argument(..., help="Ticket id."),
          closing: Closing = typer.Option(..., "--closing", "-c", help="How the author took the answer."),
          reason: str = ReasonOpt) -> None:
    """Close an answered ticket with a closing reason (author satisfied / neutral / unsatisfied).

    Example: tsur tickets close 7 --closing satisfied --reason "road repaired, author thanked"
    """
    _move(state(ctx), ticket_id, "closed", reason, closing.value)


@app.command("reopen")
def reopen(ctx: typer.Context, ticket_id: int = typer.Argument(..., help="Ticket id."),
           reason: str = ReasonOpt) -> None:
    """Reopen a closed ticket (back to in_progress; the SLA clock restarts).

    Example: tsur tickets reopen 7 --reason "the author says the hole is back"
    """
    _move(state(ctx), ticket_id, "in_progress", reason)


@app.command("status")
def set_status(ctx: typer.Context, ticket_id: int = typer.Argument(..., help="Ticket id."),
               new_status: str = typer.Argument(..., metavar="STATUS", help="sent, in_progress or answered."),
               reason: str = ReasonOpt) -> None:
    """Move a ticket along its lifecycle (new → sent → in_progress → answered).

    Example: tsur tickets status 7 answered --reason "the agency replied on the portal"
    """
    _move(state(ctx), ticket_id, new_status, reason)


@app.command("flag")
def flag(ctx: typer.Context, ticket_id: int = typer.Argument(..., help="Ticket id."),
         by: str = typer.Option(..., "--by", help="Who says it is misrouted (usually the agency)."),
         reason: str = ReasonOpt) -> None:
    """Record that an agency says a ticket is not theirs; the ticket joins the review queue until it is
    reassigned or confirmed.

    Example: tsur tickets flag 7 --by "Минздрав РК" --reason "roads are not ours, call the municipality"
    """
    from routing.lifecycle import event

    st = state(ctx)
    if not reason.strip():
        raise ValueError("a reason is required (--reason)")
    with st.sessions.begin() as s:
        ticket = queries.get_ticket(s, ticket_id)
        if ticket.status in queries.CLOSED_STATUSES:
            raise ValueError(f"ticket {ticket_id} is {ticket.status}: reopen it first")
        event(s, ticket, utcnow(), st.actor, queries.FLAG_KIND, ticket.agency, None, reason, by=by)
    say(st, f"ticket {ticket_id} flagged as misrouted by {by}: it is in the review queue",
        {"id": ticket_id, "flagged_by": by})
