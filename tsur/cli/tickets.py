"""Ops: list tickets, the overdue ones, close with a closing reason, reopen, move along the lifecycle; merge,
split and detach items."""
from __future__ import annotations

from enum import Enum
from typing import Optional

import typer

from storage.tables import utcnow
from tsur import queries
from tsur.cli.output import parse_when, print_rows, say
from tsur.cli.state import State, state

app = typer.Typer(no_args_is_help=True, help="Tickets (incidents): list, overdue, close, reopen, status, flag, "
                  "merge, split, detach.\n\n"
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
                 limit: int = typer.Option(100, "--limit", min=0, help="At most this many (0: all).")) -> None:
    """List tickets, newest first, filtered.

    Example: tsur tickets list --open --municipality Симферополь
    """
    from routing.lifecycle import TRANSITIONS

    st = state(ctx)
    if status is not None and status not in TRANSITIONS:
        raise ValueError(f"unknown status {status!r}: use one of {', '.join(TRANSITIONS)}")
    with st.sessions() as s:
        rows = queries.list_tickets(s, status=status, open_only=open_only, agency=agency, municipality=municipality,
                                    topic=topic, limit=limit or None)
    print_rows(st, rows, COLUMNS, title="Tickets", widths=WIDTHS, empty="no tickets")


@app.command("overdue")
def overdue(ctx: typer.Context,
            agency: Optional[str] = typer.Option(None, "--agency", help="Agency contains this."),
            at: Optional[str] = typer.Option(None, "--at", help="As of this time instead of now: +DURATION from now "
                                             "(+1d: what is past due by tomorrow) or a date/time in the region's "
                                             "time zone (2026-12-07 18:00).")) -> None:
    """List open tickets past their due time (or marked overdue by the SLA check), oldest due first.

    Example: tsur --json tickets overdue --agency Минздрав
    Example: tsur tickets overdue --at +1d
    """
    st = state(ctx)
    when = parse_when(at, utcnow(), st.tz)
    with st.sessions() as s:
        rows = queries.list_tickets(s, agency=agency, overdue_at=when)
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
    from routing.lifecycle import reopen as reopen_ticket

    st = state(ctx)
    with st.sessions.begin() as s:
        ticket = queries.get_ticket(s, ticket_id)
        reopen_ticket(s, ticket, actor=st.actor, reason=reason, now=utcnow(), policy=st.policy)
    say(st, f"ticket {ticket_id}: closed → in_progress (reopened)", {"id": ticket_id, "old": "closed",
                                                                     "status": "in_progress"})


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


class Detach(str, Enum):
    review = "review"
    ticket = "ticket"


def parse_ids(text: str) -> list[int]:
    """'41,42' → [41, 42]."""
    try:
        ids = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise ValueError(f"bad item list {text!r}: item ids separated by commas, e.g. 41,42") from None
    if not ids:
        raise ValueError("name at least one item id")
    return ids


@app.command("merge")
def merge(ctx: typer.Context, ticket_id: int = typer.Argument(..., help="The ticket that goes away."),
          into: int = typer.Argument(..., metavar="INTO", help="The ticket that gathers its items."),
          reason: str = ReasonOpt) -> None:
    """Merge one ticket into another (same incident): its items move, it is closed as merged and points there.

    Example: tsur tickets merge 12 7 --reason "same pothole on Kirova, two posts"
    """
    from routing.lifecycle import item_pks
    from routing.lifecycle import merge as merge_tickets

    st = state(ctx)
    with st.sessions.begin() as s:
        src, dst = queries.get_ticket(s, ticket_id), queries.get_ticket(s, into)
        moved = len(item_pks(s, src))
        merge_tickets(s, src, dst, actor=st.actor, reason=reason, now=utcnow())
    say(st, f"ticket {ticket_id} merged into {into} ({moved} item(s) moved)", {"id": ticket_id, "into": into,
                                                                            "items": moved})


@app.command("split")
def split(ctx: typer.Context, ticket_id: int = typer.Argument(..., help="Ticket id."),
          items: str = typer.Option(..., "--items", help="Item ids that move to a new ticket, e.g. 41,42."),
          reason: str = ReasonOpt) -> None:
    """Move some items of a ticket into a new ticket (same agency, topic and place; delivered afresh).

    Example: tsur tickets split 7 --items 41,42 --reason "two different streets"
    """
    from routing.lifecycle import split as split_ticket

    st = state(ctx)
    pks = parse_ids(items)
    with st.sessions.begin() as s:
        new = split_ticket(s, queries.get_ticket(s, ticket_id), pks, actor=st.actor, reason=reason, now=utcnow(),
                           policy=st.policy)
        new_id = new.id
    say(st, f"ticket {ticket_id}: item(s) {', '.join(map(str, pks))} moved to new ticket {new_id}",
        {"id": ticket_id, "new_ticket": new_id, "items": pks})


@app.command("detach")
def detach(ctx: typer.Context, ticket_id: int = typer.Argument(..., help="Ticket id."),
           item_id: int = typer.Argument(..., metavar="ITEM", help="The wrongly attached item."),
           to: Detach = typer.Option(Detach.review, "--to", help="review: back to the review queue; ticket: a new "
                                     "ticket of its own."),
           reason: str = ReasonOpt) -> None:
    """Take one wrongly attached item out of a ticket, back to the review queue or into a ticket of its own.

    Example: tsur tickets detach 7 42 --to review --reason "about the school yard, not the road"
    """
    from routing.lifecycle import detach as detach_item

    st = state(ctx)
    with st.sessions.begin() as s:
        new = detach_item(s, queries.get_ticket(s, ticket_id), item_id, to=to.value, actor=st.actor, reason=reason,
                          now=utcnow(), policy=st.policy)
        new_id = new.id if new is not None else None
    where = f"new ticket {new_id}" if new_id else "the review queue"
    say(st, f"ticket {ticket_id}: item {item_id} detached to {where}", {"id": ticket_id, "item": item_id,
                                                                        "new_ticket": new_id, "to": to.value})
