"""SLA due times on the working-hours calendar: weekends, holidays, transfers; SLA flags and events."""
from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta, timezone

import pytest
import sqlalchemy as sa

from routing.sla import check_sla, due_at, is_working_day, working_seconds
from storage.tables import Ticket, TicketEvent

MSK = timezone(timedelta(hours=3))  # Europe/Simferopol, no DST

# start (Simferopol local), importance → due (local). Working hours 09:00–18:00.
GOLDEN = [
    ("2026-11-23 10:00", "normal", "2026-11-24 10:00"),  # Monday: 8 h today + 1 h Tuesday
    ("2026-11-23 10:00", "high", "2026-11-23 14:00"),
    ("2026-11-23 07:30", "normal", "2026-11-23 18:00"),  # before opening: the clock starts at 09:00
    ("2026-11-27 16:00", "normal", "2026-11-30 16:00"),  # Friday → over the weekend → Monday
    ("2026-11-28 12:00", "high", "2026-11-30 13:00"),    # Saturday: starts Monday 09:00
    ("2026-11-03 17:00", "normal", "2026-11-05 17:00"),  # 4 November (Unity Day) skipped
    ("2025-12-30 15:00", "normal", "2026-01-12 15:00"),  # 31 Dec transferred day off, New Year holidays, 9 Jan transfer
    ("2024-04-26 16:00", "normal", "2024-04-27 16:00"),  # 27 April 2024 was a working Saturday
    ("2024-04-27 17:00", "high", "2024-05-02 12:00"),    # then 28 Apr–1 May off (29, 30 Apr transferred)
]


def local(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%d %H:%M").replace(tzinfo=MSK)


@pytest.mark.parametrize("start, importance, due", GOLDEN)
def test_due_at_counts_working_hours(policy, start, importance, due):
    got = due_at(local(start).astimezone(timezone.utc), importance, policy)
    assert got.astimezone(MSK) == local(due)
    assert got.tzinfo is not None


def test_calendar_knows_transfers(policy):
    assert is_working_day(local("2024-04-27 12:00").date(), policy.sla)       # working Saturday
    assert not is_working_day(local("2024-04-29 12:00").date(), policy.sla)   # transferred day off
    assert not is_working_day(local("2026-01-09 12:00").date(), policy.sla)


def test_norms_are_configurable_per_region(policy):
    short = replace(policy, sla=replace(policy.sla, hours_normal=2, work_start=policy.sla.work_start))
    assert due_at(local("2026-11-23 10:00"), "normal", short).astimezone(MSK) == local("2026-11-23 12:00")


def test_working_seconds_skip_nights_and_weekends(policy):
    assert working_seconds(local("2026-11-27 17:00"), local("2026-11-30 10:00"), policy.sla) == 2 * 3600
    assert working_seconds(local("2026-11-30 10:00"), local("2026-11-27 17:00"), policy.sla) == 0


def test_naive_datetime_is_refused(policy):
    with pytest.raises(Exception, match="naive datetime"):
        due_at(datetime(2026, 11, 23, 10), "normal", policy)


def test_check_sla_flags_once_per_transition(sessions, policy):
    created = local("2026-11-23 10:00")
    with sessions() as s, s.begin():
        for status in ("new", "in_progress", "answered"):
            s.add(Ticket(status=status, importance="normal", created_at=created, updated_at=created,
                         due_at=due_at(created, "normal", policy)))
    steps = [("2026-11-23 12:00", {"ok": 2, "warning": 0, "overdue": 0, "changed": 0}),
             ("2026-11-24 08:30", {"ok": 0, "warning": 2, "overdue": 0, "changed": 2}),
             ("2026-11-24 09:30", {"ok": 0, "warning": 2, "overdue": 0, "changed": 0}),
             ("2026-11-24 10:00", {"ok": 0, "warning": 0, "overdue": 2, "changed": 2}),
             ("2026-11-25 10:00", {"ok": 0, "warning": 0, "overdue": 2, "changed": 0})]
    for at, expected in steps:
        with sessions() as s, s.begin():
            assert check_sla(s, local(at), policy) == expected, at
    with sessions() as s:
        events = s.execute(sa.select(TicketEvent.ticket_id, TicketEvent.old_value, TicketEvent.new_value)
                           .where(TicketEvent.kind == "sla").order_by(TicketEvent.id)).all()
        states = dict(s.execute(sa.select(Ticket.status, Ticket.sla_state)).all())
    assert [(o, n) for _, o, n in events] == [("ok", "warning")] * 2 + [("warning", "overdue")] * 2
    assert states == {"new": "overdue", "in_progress": "overdue", "answered": "ok"}
