"""Ops: ticket counts per agency or per municipality."""
from __future__ import annotations

from enum import Enum
from typing import Optional

import typer

from storage.tables import utcnow
from tsur import queries
from tsur.cli.output import parse_duration, print_rows
from tsur.cli.state import state


class By(str, Enum):
    agency = "agency"
    municipality = "municipality"


def stats(ctx: typer.Context, by: By = typer.Option(By.agency, "--by", help="Group by agency or municipality."),
          since: Optional[str] = typer.Option(None, "--since", help="Only tickets created this recently (e.g. 7d).")
          ) -> None:
    """Tickets per agency or municipality: total, open, high importance, overdue, closing reasons, items.

    Example: tsur stats --by municipality --since 30d
    """
    st = state(ctx)
    window = parse_duration(since)
    with st.sessions() as s:
        rows = queries.stats_by(s, by.value, since=utcnow() - window if window else None)
    for row in rows:
        row["name"] = row["name"] or ("(triage: no route)" if by is By.agency else "(no place)")
    columns = {"name": by.value.capitalize(), "tickets": "Tickets", "open": "Open", "high": "High",
               "overdue": "Overdue", "satisfied": "Satisfied", "neutral": "Neutral", "unsatisfied": "Unsatisfied",
               "items": "Items"}
    print_rows(st, rows, columns, title=f"Tickets by {by.value}", widths={"name": 50}, empty="no tickets")
