"""Run records: one row per pass of a stage (or per source poll) with its counts and outcome."""
from __future__ import annotations

import functools
import logging
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session, sessionmaker

from storage.tables import Run, utcnow
from tsur.errors import one_line
from tsur.logs import run_id_var
from tsur.masking import mask

log = logging.getLogger(__name__)


# A pass that has not recorded its outcome after this long was killed (or lost its database) mid-pass. A pass
# still alive after it (a very long backlog) overwrites the mark with its real outcome when it ends.
ABANDONED_AFTER = timedelta(hours=6)


def close_abandoned(session: Session, stage: str | None, now: datetime, older_than: timedelta = ABANDONED_AFTER) -> int:
    """Mark `running` rows of `stage` (None: every stage) started before now − older_than as `abandoned`;
    returns how many. Rows another daemon is marking are skipped (no lock waits). The caller commits."""
    query = sa.select(Run.id).where(Run.status == "running", Run.started_at < now - older_than)
    if stage is not None:
        query = query.where(Run.stage == stage)
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    ids = list(session.scalars(query))
    if not ids:
        return 0
    hours = older_than.total_seconds() / 3600
    reason = f"abandoned: no outcome recorded {hours:g} h after the start (killed, or the database was lost)"
    return session.execute(sa.update(Run).where(Run.id.in_(ids)).values(status="abandoned", error=reason)).rowcount


def new_run_id() -> str:
    """A short unique id that ties log lines and run rows together."""
    return uuid.uuid4().hex[:12]


def current_run_id() -> str | None:
    """The run id bound to this context, if any."""
    value = run_id_var.get()
    return None if value == "-" else value


@contextmanager
def run_scope(run_id: str | None = None) -> Iterator[str]:
    """Bind a run id to this context for log lines and `runs` rows: `run_id`, else the one already bound
    (a daemon job's, a --once pass's), else a new one. Example: with run_scope() as rid: pipeline.analyse()."""
    rid = run_id or current_run_id() or new_run_id()
    token = run_id_var.set(rid)
    try:
        yield rid
    finally:
        run_id_var.reset(token)


def scoped(func: Callable) -> Callable:
    """Decorate a pass to run inside `run_scope()`: a job's or --once's run id, else its own."""

    @functools.wraps(func)
    def in_scope(*args, **kwargs):
        with run_scope():
            return func(*args, **kwargs)

    return in_scope


@dataclass
class RunRecorder:
    """Counts gathered during a run; `status` may be set to 'error' or 'skipped'."""

    run_id: str
    stage: str
    counts: dict[str, Any] = field(default_factory=dict)
    status: str = "ok"  # runs.status: running (in progress), ok, error, skipped, abandoned (close_abandoned)
    error: str | None = None

    def add(self, **counts: float) -> None:
        for k, v in counts.items():
            self.counts[k] = self.counts.get(k, 0) + v

    def empty(self) -> bool:
        """True for a clean pass that counted nothing (every numeric count is 0)."""
        return self.status == "ok" and not any(v for v in self.counts.values() if isinstance(v, (int, float)))


@contextmanager
def record_run(sessions: sessionmaker[Session], stage: str, *, worker: str, run_id: str | None = None,
               source: str | None = None, keep_empty: bool = True) -> Iterator[RunRecorder]:
    """Write a `runs` row when the pass starts and complete it when it ends, even on error.

    The row's run id (`run_id`, else the one bound by `run_scope`) is bound for the pass's log lines. With
    keep_empty=False the row of a clean pass that counted nothing is deleted (idle analyse/route ticks). Rows
    of the same stage left `running` by a killed pass long ago are marked `abandoned` first (close_abandoned).
    """
    rec = RunRecorder(run_id or current_run_id() or new_run_id(), stage)
    with sessions.begin() as s:
        now = utcnow()
        if close_abandoned(s, stage, now):
            log.warning("marked %s run(s) left running for over %s as abandoned", stage, ABANDONED_AFTER)
        row = Run(run_id=rec.run_id, stage=stage, source=source, worker=worker, started_at=now)
        s.add(row)
        s.flush()
        row_id = row.id
    token = run_id_var.set(rec.run_id)
    try:
        yield rec
    except BaseException as exc:
        # the first line only: a database error's further lines carry its SQL and the values (citizens' texts)
        rec.status, rec.error = "error", f"{exc.__class__.__name__}: {one_line(exc)}"[:2000]
        raise
    finally:
        run_id_var.reset(token)
        with sessions.begin() as s:
            if not keep_empty and rec.empty():
                s.execute(sa.delete(Run).where(Run.id == row_id))
            else:
                s.execute(sa.update(Run).where(Run.id == row_id).values(
                    status=rec.status, counts=rec.counts, error=mask(rec.error), finished_at=utcnow()))
