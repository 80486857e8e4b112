"""SLA clocks on a working-hours calendar with Russian public holidays, transfers and working Saturdays.

The calendar comes from the `holidays` package (RU: public holidays, days off moved by government
decree, and `weekend_workdays` such as 2024-04-27); working hours and norms come from routing.toml.
"""
from __future__ import annotations

from datetime import date, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays
import sqlalchemy as sa
from sqlalchemy.orm import Session

from routing.errors import RoutingError
from routing.policy import Policy, SlaConfig
from storage.tables import Ticket, TicketEvent

OPEN_CLOCK = ("new", "sent", "in_progress")  # answered / closed tickets stop the clock
SYSTEM = "system:sla"


@lru_cache(maxsize=8)
def calendar(country: str) -> holidays.HolidayBase:
    """The country's holidays object (years are added lazily on lookup)."""
    return holidays.country_holidays(country)


def is_working_day(day: date, sla: SlaConfig) -> bool:
    """True on a working day: not a weekend or holiday, or a transferred working Saturday."""
    return calendar(sla.holidays_country).is_working_day(day)


def _day_bounds(day: date, sla: SlaConfig, tz: ZoneInfo) -> tuple[datetime, datetime]:
    return (datetime.combine(day, sla.work_start, tz), datetime.combine(day, sla.work_end, tz))


def _working_spans(start: datetime, sla: SlaConfig):
    """Yield (from, to) working intervals from `start` onwards, in local time."""
    tz = ZoneInfo(sla.timezone)
    cursor = start.astimezone(tz)
    day = cursor.date()
    for _ in range(3660):  # ten years of days: a calendar with no working day is a config error
        if is_working_day(day, sla):
            begin, end = _day_bounds(day, sla, tz)
            if cursor < end:
                yield max(cursor, begin), end
        day += timedelta(days=1)
    raise RoutingError(f"no working day within ten years of {start:%Y-%m-%d}: check [sla] settings")


def norm_hours(importance: str | None, sla: SlaConfig) -> float:
    """Working hours allowed for a ticket of this importance."""
    return sla.hours_high if importance == "high" else sla.hours_normal


def add_working_time(start: datetime, seconds: float, sla: SlaConfig) -> datetime:
    """The moment `seconds` of working time after `start` (UTC)."""
    if start.tzinfo is None:
        raise RoutingError(f"naive datetime {start!r}: pass timezone-aware UTC")
    remaining = timedelta(seconds=seconds)
    for begin, end in _working_spans(start, sla):
        if remaining <= end - begin:
            return (begin + remaining).astimezone(ZoneInfo("UTC"))
        remaining -= end - begin
    raise AssertionError("unreachable")


def working_seconds(start: datetime, end: datetime, sla: SlaConfig) -> float:
    """Working seconds between two moments (0 if end <= start)."""
    total = 0.0
    if end <= start:
        return total
    for begin, stop in _working_spans(start, sla):
        if begin >= end:
            break
        total += (min(stop, end) - begin).total_seconds()
    return total


def due_at(start: datetime, importance: str | None, policy: Policy) -> datetime:
    """Due time: the norm for `importance` in working hours after `start` (UTC)."""
    return add_working_time(start, norm_hours(importance, policy.sla) * 3600, policy.sla)


def sla_state(ticket: Ticket, now: datetime, policy: Policy) -> str:
    """ok | warning | overdue for an open ticket at `now`."""
    if ticket.due_at is None:
        return "ok"
    if now >= ticket.due_at:
        return "overdue"
    if working_seconds(now, ticket.due_at, policy.sla) <= policy.sla.warn_before_hours * 3600:
        return "warning"
    return "ok"


def check_sla(session: Session, now: datetime, policy: Policy) -> dict[str, int]:
    """Flag open tickets ok/warning/overdue; one `sla` event per transition. The caller commits."""
    query = sa.select(Ticket).where(Ticket.status.in_(OPEN_CLOCK), Ticket.merged_into.is_(None),
                                    Ticket.due_at.is_not(None)).order_by(Ticket.id)
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    counts = {"ok": 0, "warning": 0, "overdue": 0, "changed": 0}
    for ticket in session.scalars(query):
        state = sla_state(ticket, now, policy)
        counts[state] += 1
        if state != ticket.sla_state:
            session.add(TicketEvent(ticket_id=ticket.id, at=now, actor=SYSTEM, kind="sla", old_value=ticket.sla_state,
                                    new_value=state, reason=f"due {ticket.due_at:%Y-%m-%d %H:%M} UTC",
                                    data={"due_at": ticket.due_at.isoformat()}))
            ticket.sla_state, ticket.updated_at = state, now
            counts["changed"] += 1
    session.flush()
    return counts
