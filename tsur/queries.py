"""Read-side queries for people: the review queue, item/ticket details, ticket lists, source health, stats.

Text filters (agency, topic, municipality) are case-insensitive substrings, applied in Python because
SQLite's lower() does not fold Cyrillic.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from storage.tables import (AnalysisRow, Decision, Item, Label, Run, Source, Ticket, TicketEvent, TicketItem,
                            utcnow)

CLOSED_STATUSES = ("closed", "merged")
FLAG_KIND = "misrouted"  # a ticket event an agency (or ops) writes when a ticket reached the wrong agency
RESOLVING_KINDS = ("reassign", "confirm", "merge", "split")  # later events of these kinds settle a flag


@dataclass(frozen=True)
class QueueEntry:
    """One thing waiting for a human: an item sent to review, or a ticket flagged as misrouted."""

    kind: str  # item | ticket
    id: int  # item pk or ticket id
    at: datetime
    agency: str | None
    topic_group: str | None
    topic: str | None
    municipality: str | None
    settlement: str | None
    importance: str
    reason: str
    text: str
    decision_id: int | None = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _matches(value: str | None, needle: str | None) -> bool:
    return needle is None or (value is not None and needle.casefold() in value.casefold())


def matches(entry: QueueEntry, *, agency: str | None = None, topic: str | None = None,
            municipality: str | None = None, min_age: timedelta | None = None, max_age: timedelta | None = None,
            now: datetime | None = None) -> bool:
    """Whether a queue entry passes the filters (topic matches the group or the topic)."""
    now = now or utcnow()
    age = now - entry.at
    return (_matches(entry.agency, agency)
            and (_matches(entry.topic_group, topic) or _matches(entry.topic, topic))
            and (_matches(entry.municipality, municipality) or _matches(entry.settlement, municipality))
            and (min_age is None or age >= min_age) and (max_age is None or age <= max_age))


def review_items(session: Session) -> list[QueueEntry]:
    """Items whose routing decision is an unreviewed `review` (low confidence, no place, no route)."""
    rows = session.execute(
        sa.select(Item.id, Item.published_at, Decision.agency, AnalysisRow.topic_group, AnalysisRow.topic,
                  AnalysisRow.municipality, AnalysisRow.settlement, AnalysisRow.importance, Decision.reason,
                  Item.text, Decision.id)
        .join(AnalysisRow, AnalysisRow.id == Decision.analysis_id)
        .join(Item, Item.id == Decision.item_pk)
        .where(Decision.outcome == "review", Decision.reviewed.is_(False))
        .order_by(Item.published_at, Item.id)
    )
    return [QueueEntry("item", pk, at, agency, group, topic, place, settlement, importance, reason, text or "",
                       decision_id)
            for pk, at, agency, group, topic, place, settlement, importance, reason, text, decision_id in rows]


def flagged_tickets(session: Session) -> list[QueueEntry]:
    """Open tickets whose latest flag (event kind `misrouted`) has not been resolved by a later correction."""
    events = session.execute(
        sa.select(TicketEvent.ticket_id, TicketEvent.id, TicketEvent.kind, TicketEvent.reason, TicketEvent.at)
        .where(TicketEvent.kind.in_((FLAG_KIND, *RESOLVING_KINDS)))
        .order_by(TicketEvent.ticket_id, TicketEvent.id)
    ).all()
    flags: dict[int, tuple[str, datetime]] = {}
    for ev in events:
        if ev.kind == FLAG_KIND:
            flags[ev.ticket_id] = (ev.reason or "no reason given", ev.at)
        else:
            flags.pop(ev.ticket_id, None)
    if not flags:
        return []
    tickets = session.scalars(sa.select(Ticket).where(Ticket.id.in_(flags), Ticket.status.not_in(CLOSED_STATUSES)))
    return [QueueEntry("ticket", t.id, flags[t.id][1], t.agency, t.topic_group, t.topic, t.municipality,
                       t.settlement, t.importance, f"misrouted: {flags[t.id][0]}", t.summary or "")
            for t in tickets]


def review_queue(session: Session, *, agency: str | None = None, topic: str | None = None,
                 municipality: str | None = None, min_age: timedelta | None = None,
                 max_age: timedelta | None = None, limit: int | None = None,
                 now: datetime | None = None) -> list[QueueEntry]:
    """The review queue, oldest first, filtered. Example: review_queue(s, municipality="ялта", max_age=timedelta(days=3))."""
    entries = sorted(review_items(session) + flagged_tickets(session), key=lambda e: (e.at, e.kind, e.id))
    kept = [e for e in entries if matches(e, agency=agency, topic=topic, municipality=municipality,
                                          min_age=min_age, max_age=max_age, now=now)]
    return _first(kept, limit)


def _first(rows: list, limit: int | None) -> list:
    """At most `limit` rows (None or 0: all); a negative limit is refused, not read as «all but the last»."""
    if limit is not None and limit < 0:
        raise ValueError(f"limit must be 0 (all) or more, not {limit}")
    return rows[:limit] if limit else rows


def row_dict(row: Any, *exclude: str) -> dict[str, Any]:
    """The columns of an ORM row as a dict (minus `exclude`)."""
    return {c.key: getattr(row, c.key) for c in sa.inspect(row).mapper.column_attrs if c.key not in exclude}


def latest_analysis(session: Session, item: Item) -> AnalysisRow | None:
    """The newest analysis of the item's current revision (or of any revision if none)."""
    rows = list(session.scalars(sa.select(AnalysisRow).where(AnalysisRow.item_pk == item.id)
                                .order_by(AnalysisRow.id)))
    current = [r for r in rows if r.revision == item.revision]
    return (current or rows or [None])[-1]


def latest_decision(session: Session, item_pk: int) -> Decision | None:
    """The newest decision about an item."""
    return session.scalar(sa.select(Decision).where(Decision.item_pk == item_pk).order_by(Decision.id.desc())
                          .limit(1))


def get_item(session: Session, item_pk: int) -> Item:
    """The item, or KeyError naming it."""
    item = session.get(Item, item_pk)
    if item is None:
        raise KeyError(f"no item {item_pk}")
    return item


def get_ticket(session: Session, ticket_id: int) -> Ticket:
    """The ticket, or KeyError naming it."""
    ticket = session.get(Ticket, ticket_id)
    if ticket is None:
        raise KeyError(f"no ticket {ticket_id}")
    return ticket


def ticket_of_item(session: Session, item_pk: int) -> int | None:
    """The ticket gathering an item, if any."""
    return session.scalar(sa.select(TicketItem.ticket_id).where(TicketItem.item_pk == item_pk))


def item_labels(session: Session, item_pks: list[int]) -> list[dict[str, Any]]:
    """Labels recorded for some items, oldest first."""
    rows = session.scalars(sa.select(Label).where(Label.item_pk.in_(item_pks)).order_by(Label.id))
    return [row_dict(r, "text") for r in rows]


def item_detail(session: Session, item_pk: int) -> dict[str, Any]:
    """Everything about one item: text, link, latest analysis, decision (rule), ticket, labels."""
    item = get_item(session, item_pk)
    analysis, decision = latest_analysis(session, item), latest_decision(session, item_pk)
    return {
        "item": row_dict(item, "raw", "text_hash"),
        "analysis": row_dict(analysis) if analysis else None,
        "decision": row_dict(decision) if decision else None,
        "ticket_id": ticket_of_item(session, item_pk),
        "labels": item_labels(session, [item_pk]),
    }


def ticket_detail(session: Session, ticket_id: int) -> dict[str, Any]:
    """Everything about one ticket: fields, its items with text and links, the routing decisions, history."""
    ticket = get_ticket(session, ticket_id)
    items = session.execute(
        sa.select(Item, TicketItem.via).join(TicketItem, TicketItem.item_pk == Item.id)
        .where(TicketItem.ticket_id == ticket_id).order_by(Item.published_at, Item.id)
    ).all()
    decisions = session.scalars(sa.select(Decision).where(Decision.ticket_id == ticket_id).order_by(Decision.id))
    events = session.scalars(sa.select(TicketEvent).where(TicketEvent.ticket_id == ticket_id)
                             .order_by(TicketEvent.at, TicketEvent.id))
    return {
        "ticket": row_dict(ticket),
        "items": [{**row_dict(i, "raw", "text_hash"), "via": via} for i, via in items],
        "decisions": [row_dict(d) for d in decisions],
        "events": [row_dict(e) for e in events],
        "labels": item_labels(session, [i.id for i, _ in items]),
    }


def _ticket_row(t: Ticket, items: int) -> dict[str, Any]:
    return {"id": t.id, "status": t.status, "agency": t.agency, "topic_group": t.topic_group, "topic": t.topic,
            "municipality": t.municipality, "settlement": t.settlement, "importance": t.importance,
            "sla_state": t.sla_state, "created_at": t.created_at, "due_at": t.due_at, "closed_at": t.closed_at,
            "closing_reason": t.closing_reason, "items": items, "summary": t.summary}


def list_tickets(session: Session, *, status: str | None = None, open_only: bool = False,
                 agency: str | None = None, municipality: str | None = None, topic: str | None = None,
                 overdue_at: datetime | None = None, limit: int | None = None) -> list[dict[str, Any]]:
    """Tickets (not merged into another), newest first; `overdue_at` keeps open ones past due or flagged overdue."""
    counts = sa.select(TicketItem.ticket_id, sa.func.count().label("n")).group_by(TicketItem.ticket_id).subquery()
    stmt = (sa.select(Ticket, sa.func.coalesce(counts.c.n, 0))
            .join(counts, counts.c.ticket_id == Ticket.id, isouter=True)
            .where(Ticket.merged_into.is_(None)).order_by(Ticket.created_at.desc(), Ticket.id.desc()))
    if status:
        stmt = stmt.where(Ticket.status == status)
    if open_only or overdue_at is not None:
        stmt = stmt.where(Ticket.status.not_in(CLOSED_STATUSES))
    if overdue_at is not None:
        stmt = stmt.where(sa.or_(Ticket.sla_state == "overdue", Ticket.due_at < overdue_at))
    rows = [_ticket_row(t, n) for t, n in session.execute(stmt)]
    rows = [r for r in rows if _matches(r["agency"], agency) and _matches(r["municipality"], municipality)
            and (_matches(r["topic_group"], topic) or _matches(r["topic"], topic))]
    return _first(rows, limit)


def _run_stats(session: Session, since: datetime) -> dict[str, dict[str, float]]:
    rows = session.execute(sa.select(Run.source, Run.counts).where(Run.stage == "collect", Run.source.is_not(None),
                                                                   Run.started_at >= since))
    out: dict[str, dict[str, float]] = {}
    for source, counts in rows:
        acc = out.setdefault(source, {"polls": 0, "requests": 0, "waits": 0.0})
        acc["polls"] += 1
        acc["requests"] += float((counts or {}).get("requests", 0) or 0)
        acc["waits"] += float((counts or {}).get("waits", 0) or 0)
    return out


def _silence(src: Source, since_success: float | None, now: datetime, silent_factor: float,
             no_new_after_s: float) -> str | None:
    """Why an enabled source counts as silent: no successful poll for `silent_factor` intervals, or polls that
    bring nothing new for `no_new_after_s` (counted from when it was added if it never brought anything)."""
    if not src.enabled:
        return None
    if since_success is None or since_success > silent_factor * src.interval_s:
        return "no successful poll"
    quiet_s = (now - (src.last_new_item_at or src.created_at)).total_seconds()
    return "no new items" if no_new_after_s and quiet_s > no_new_after_s else None


def source_health(session: Session, *, now: datetime | None = None, silent_factor: float = 3.0,
                  no_new_after_s: float = 172800.0, window: timedelta = timedelta(hours=24)) -> list[dict[str, Any]]:
    """Per source: last success, lags, errors, rate-limit waits and requests, items in the window, silent flag.

    Example: source_health(s, no_new_after_s=6 * 3600) flags sources that polled fine but stored nothing in 6 h.
    """
    now = now or utcnow()
    newest = dict(session.execute(sa.select(Item.source, sa.func.max(Item.published_at)).group_by(Item.source)).all())
    recent = dict(session.execute(sa.select(Item.source, sa.func.count()).where(Item.first_seen_at >= now - window)
                                  .group_by(Item.source)).all())
    runs = _run_stats(session, now - window)
    out = []
    for src in session.scalars(sa.select(Source).order_by(Source.key)):
        since_success = (now - src.last_success_at).total_seconds() if src.last_success_at else None
        newest_at = newest.get(src.key)
        silence = _silence(src, since_success, now, silent_factor, no_new_after_s)
        run = runs.get(src.key, {"polls": 0, "requests": 0, "waits": 0.0})
        out.append({
            "key": src.key, "enabled": src.enabled, "disabled_reason": src.disabled_reason,
            "interval_s": src.interval_s, "last_success_at": src.last_success_at,
            "since_success_s": since_success,
            "content_lag_s": (now - newest_at).total_seconds() if newest_at else None,
            "since_new_item_s": (now - src.last_new_item_at).total_seconds() if src.last_new_item_at else None,
            "consecutive_errors": src.consecutive_errors, "last_error": src.last_error,
            "last_error_at": src.last_error_at, "items_24h": recent.get(src.key, 0),
            "polls_24h": run["polls"], "requests_24h": run["requests"], "waits_24h_s": round(run["waits"], 3),
            "paused_until": src.not_before if src.not_before and src.not_before > now else None,
            "silent": silence is not None, "silent_reason": silence,
        })
    return out


def stats_by(session: Session, by: str = "agency", *, since: datetime | None = None) -> list[dict[str, Any]]:
    """Tickets per agency or municipality: total, open, high, overdue, closed by reason, items."""
    if by not in ("agency", "municipality"):
        raise ValueError(f"stats of tickets by {by!r}: use agency or municipality")
    key = getattr(Ticket, by)
    is_open = Ticket.status.not_in(CLOSED_STATUSES)

    def count_if(cond):
        return sa.func.count(sa.distinct(sa.case((cond, Ticket.id))))

    stmt = (sa.select(key.label("name"), sa.func.count(sa.distinct(Ticket.id)).label("tickets"),
                      count_if(is_open).label("open"), count_if(Ticket.importance == "high").label("high"),
                      count_if(sa.and_(is_open, Ticket.sla_state == "overdue")).label("overdue"),
                      *[count_if(Ticket.closing_reason == r).label(r)
                        for r in ("satisfied", "neutral", "unsatisfied")],
                      sa.func.count(TicketItem.item_pk).label("items"))
            .join(TicketItem, TicketItem.ticket_id == Ticket.id, isouter=True)
            .where(Ticket.merged_into.is_(None)).group_by(key).order_by(sa.desc("tickets"), key))
    if since is not None:
        stmt = stmt.where(Ticket.created_at >= since)
    return [dict(r._mapping) for r in session.execute(stmt)]


def post_stats(session: Session, by: str = "topic_group", *, since: datetime | None = None) -> list[dict[str, Any]]:
    """Analysed items (posts, comments, articles), each by its newest analysis (of its latest analysed revision),
    per topic group or municipality: posts, complaints, notices, other, high importance; `since` keeps items
    published since then. Analyses made before genres count as complaint or other by is_complaint.

    Example: post_stats(s, "municipality", since=utcnow() - timedelta(days=30))
    """
    if by == "agency":
        raise ValueError("stats of posts by agency: posts have no agency (only tickets do); "
                         "use --by topic_group or municipality")
    if by not in ("topic_group", "municipality"):
        raise ValueError(f"stats of posts by {by!r}: use topic_group or municipality")
    a = AnalysisRow
    key, notice = getattr(a, by), a.genre == "notice"

    def count_if(cond):
        return sa.func.count(sa.case((cond, a.id)))

    newest = sa.select(sa.func.max(a.id)).group_by(a.item_pk)
    stmt = (sa.select(key.label("name"), sa.func.count(a.id).label("posts"),
                      count_if(a.is_complaint).label("complaints"),
                      count_if(sa.and_(~a.is_complaint, notice)).label("notices"),
                      count_if(sa.and_(~a.is_complaint, sa.or_(a.genre.is_(None), ~notice))).label("other"),
                      count_if(a.importance == "high").label("high"))
            .where(a.id.in_(newest)).group_by(key))
    if since is not None:
        stmt = stmt.join(Item, Item.id == a.item_pk).where(Item.published_at >= since)
    rows = [dict(r._mapping) for r in session.execute(stmt)]
    return sorted(rows, key=lambda r: (-r["posts"], r["name"] is None, r["name"] or ""))
