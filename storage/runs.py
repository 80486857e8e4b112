"""Run records: one row per pass of a stage (or per source poll) with its counts and outcome."""
from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session, sessionmaker

from storage.tables import Run, utcnow
from tsur.masking import mask


def new_run_id() -> str:
    """A short unique id that ties log lines and run rows together."""
    return uuid.uuid4().hex[:12]


@dataclass
class RunRecorder:
    """Counts gathered during a run; `status` may be set to 'error' or 'skipped'."""

    run_id: str
    stage: str
    counts: dict[str, Any] = field(default_factory=dict)
    status: str = "ok"
    error: str | None = None

    def add(self, **counts: float) -> None:
        for k, v in counts.items():
            self.counts[k] = self.counts.get(k, 0) + v


@contextmanager
def record_run(sessions: sessionmaker[Session], stage: str, *, worker: str, run_id: str | None = None,
               source: str | None = None) -> Iterator[RunRecorder]:
    """Write a `runs` row when the pass starts and complete it when it ends, even on error."""
    rec = RunRecorder(run_id or new_run_id(), stage)
    with sessions.begin() as s:
        row = Run(run_id=rec.run_id, stage=stage, source=source, worker=worker, started_at=utcnow())
        s.add(row)
        s.flush()
        row_id = row.id
    try:
        yield rec
    except BaseException as exc:
        rec.status, rec.error = "error", f"{exc.__class__.__name__}: {exc}"[:2000]
        raise
    finally:
        with sessions.begin() as s:
            s.execute(sa.update(Run).where(Run.id == row_id).values(
                status=rec.status, counts=rec.counts, error=mask(rec.error), finished_at=utcnow()))
