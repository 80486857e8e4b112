"""`runs` rows: a pass killed mid-way (or cut off from its database) does not stay `running` forever."""
from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from storage.runs import ABANDONED_AFTER, close_abandoned, record_run
from storage.tables import Run, utcnow


def add_runs(sessions, *rows):
    now = utcnow()
    with sessions.begin() as s:
        s.add_all([Run(run_id=f"r{n}", stage=stage, status=status, started_at=now - age)
                   for n, (stage, status, age) in enumerate(rows)])


def statuses(sessions):
    with sessions() as s:
        return dict(s.execute(sa.select(Run.run_id, Run.status)).all())


def test_a_pass_marks_its_stage_rows_left_running_long_ago_abandoned(sessions):
    add_runs(sessions, ("collect", "running", timedelta(hours=7)), ("collect", "running", timedelta(hours=1)),
             ("analyse", "running", timedelta(hours=7)), ("collect", "ok", timedelta(hours=9)))
    with record_run(sessions, "collect", worker="w", run_id="new"):
        pass
    assert statuses(sessions) == {"r0": "abandoned", "r1": "running", "r2": "running", "r3": "ok", "new": "ok"}
    with sessions() as s:
        error = s.scalar(sa.select(Run.error).where(Run.run_id == "r0"))
    assert error.startswith("abandoned: no outcome recorded 6 h after the start")


def test_close_abandoned_of_every_stage(sessions):
    add_runs(sessions, ("route", "running", ABANDONED_AFTER + timedelta(minutes=1)),
             ("deliver", "running", ABANDONED_AFTER - timedelta(minutes=1)))
    with sessions.begin() as s:
        assert close_abandoned(s, None, utcnow()) == 1
    assert statuses(sessions) == {"r0": "abandoned", "r1": "running"}


def test_a_long_pass_still_alive_records_its_real_outcome(sessions):
    with record_run(sessions, "analyse", worker="w", run_id="long") as run:
        run.add(analysed=3)
        with sessions.begin() as s:  # another daemon's pass, many hours later
            close_abandoned(s, "analyse", utcnow() + ABANDONED_AFTER * 2)
        assert statuses(sessions) == {"long": "abandoned"}
    assert statuses(sessions) == {"long": "ok"}


def test_a_failed_pass_stores_the_first_line_of_its_error_only(sessions):
    """A database error's further lines carry the SQL and its values (a citizen's text): kept out of runs."""
    try:
        with record_run(sessions, "analyse", worker="w", run_id="bad"):
            raise RuntimeError("insert refused\nDETAIL: Key (text)=(Во дворе на ул. Ленина 5 яма) exists\n[SQL: …]")
    except RuntimeError:
        pass
    with sessions() as s:
        error = s.scalar(sa.select(Run.error).where(Run.run_id == "bad"))
    assert error == "RuntimeError: insert refused"
