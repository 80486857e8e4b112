"""Ops: ticket counts per agency or municipality; analysed posts per topic group or municipality."""
from __future__ import annotations

from enum import Enum
from typing import Optional

import typer

from storage.tables import utcnow
from tsur import queries
from tsur.cli.output import parse_since, print_rows
from tsur.cli.state import state


class Of(str, Enum):
    tickets = "tickets"
    posts = "posts"


class By(str, Enum):
    agency = "agency"
    municipality = "municipality"
    topic_group = "topic_group"


TICKET_COLUMNS = {"tickets": "Tickets", "open": "Open", "high": "High", "overdue": "Overdue",
                  "satisfied": "Satisfied", "neutral": "Neutral", "unsatisfied": "Unsatisfied", "items": "Items"}
POST_COLUMNS = {"posts": "Posts", "complaints": "Complaints", "notices": "Notices", "other": "Other",
                "high": "High importance"}
NO_NAME = {"agency": "(triage: no route)", "municipality": "(no place)", "topic_group": "(no topic)"}


def stats(ctx: typer.Context,
          of: Of = typer.Option(Of.tickets, "--of", help="Count tickets (default) or analysed posts: every item "
                                "(post, comment, article) by its newest analysis, notices included."),
          by: Optional[By] = typer.Option(None, "--by", help="Group tickets by agency (default) or municipality; "
                                          "posts by topic_group (default) or municipality."),
          since: Optional[str] = typer.Option(None, "--since", help="Only tickets created, or posts published, this "
                                              "recently (e.g. 7d), or since this date in the region's "
                                              "time zone (e.g. 2026-11-16).")) -> None:
    """Tickets per agency or municipality (total, open, high importance, overdue, closing reasons, items), or
    analysed posts per topic group or municipality (posts, complaints, notices, other, high importance).

    Example: tsur stats --by municipality --since 30d
    Example: tsur stats --of posts --by topic_group --since 7d
    Example: tsur stats --of posts --since 2026-11-16
    """
    st = state(ctx)
    group = (by or (By.topic_group if of is Of.posts else By.agency)).value
    cutoff = parse_since(since, utcnow(), st.tz)
    with st.sessions() as s:
        rows = (queries.post_stats if of is Of.posts else queries.stats_by)(s, group, since=cutoff)
    for row in rows:
        row["name"] = row["name"] or NO_NAME[group]
    columns = {"name": group.replace("_", " ").capitalize(), **(POST_COLUMNS if of is Of.posts else TICKET_COLUMNS)}
    print_rows(st, rows, columns, title=f"{of.value.capitalize()} by {group.replace('_', ' ')}", widths={"name": 50},
               empty=f"no {'analysed posts' if of is Of.posts else 'tickets'}")
