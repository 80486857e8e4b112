"""The daemon: APScheduler jobs for each source and for the analyse/route/SLA/delivery loops.

SIGTERM/SIGINT set the stop flag: loops finish the batch in hand, a source poll ends at its next pause
(rate limiter, back-off or FloodWait sleeps are cut short, see collectors.hooks), the scheduler waits for
running jobs, and the process exits. Every job runs under its own run id (log lines and `runs` rows),
logs its own failure and tries again on its next tick.
"""
from __future__ import annotations

import logging
import signal
import threading
from datetime import datetime, timedelta

import sqlalchemy as sa
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.interval import IntervalTrigger

from storage.runs import new_run_id, run_scope
from storage.tables import Source, utcnow
from tsur.health import Heartbeats, serve
from tsur.pipeline import Pipeline

log = logging.getLogger(__name__)
SOURCE_JOB = "source:"
COLLECT = "collect"  # the health entry of all source jobs together


class _QuietBusySkips(logging.Filter):
    """Drop APScheduler's 'skipped: maximum number of running instances reached': a loop working through a
    backlog (or a long poll) overlaps its next ticks by design, and those ticks are not needed."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "maximum number of running instances" not in str(record.msg)


QUIET_BUSY_SKIPS = _QuietBusySkips()


def _guarded(name: str, func, heartbeats: Heartbeats | None = None, loop: str | None = None):
    """Run `func` under a fresh run id; log (never raise) its failure so the scheduler keeps going.

    A pass that completes is progress of `loop` (default `name`); one that raises is recorded as its error.
    """
    loop = loop or name

    def job():
        with run_scope(new_run_id()):
            try:
                func()
            except Exception as exc:  # the next tick retries; the error is visible in logs and runs
                message = str(exc).splitlines()[0] if str(exc) else exc.__class__.__name__
                log.error("%s failed: %s", name, message)
                log.debug("%s traceback", name, exc_info=True)
                if heartbeats:
                    heartbeats.record_error(loop, message)
            else:
                if heartbeats:
                    heartbeats.passed(loop)

    return job


def pseudonym_key_warning(settings, dialect: str) -> str | None:
    """The warning for a shared (PostgreSQL) database without TSUR_PSEUDONYM_KEY, else None."""
    if dialect != "postgresql" or settings.secret("pseudonym_key"):
        return None
    return (f"TSUR_PSEUDONYM_KEY is not set on a PostgreSQL database: authors are pseudonymised with the key in "
            f"{settings.data_dir / 'pseudonym.key'}, and a daemon on another host (or another data_dir) makes its "
            "own, so one author gets different pseudonyms. Set the same TSUR_PSEUDONYM_KEY for every daemon.")


def _due_at(row, started_at: datetime) -> datetime:
    """When a source's next poll is due: its interval after the last attempt (else since this daemon started
    or the source was added), and not before a pause its API asked for (not_before)."""
    due = row.last_attempt_at + timedelta(seconds=row.interval_s) if row.last_attempt_at else max(row.created_at,
                                                                                                   started_at)
    return max(due, row.not_before) if row.not_before else due


class Daemon:
    """Schedules the pipeline's stages; `run()` blocks until a stop signal."""

    def __init__(self, pipeline: Pipeline):
        self.pipeline = pipeline
        self.settings = pipeline.settings
        self.heartbeats = Heartbeats(self.settings.stall_after_s)
        self.started_at = utcnow()
        self.due_at: dict[str, datetime] = {}  # source key -> when its poll is due (refresh_sources)
        self.http = None
        self._jobs_lock = threading.Lock()
        self.scheduler = BackgroundScheduler(
            executors={"default": ThreadPoolExecutor(4)},
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 300},
            timezone="UTC",
        )
        logging.getLogger("apscheduler.scheduler").addFilter(QUIET_BUSY_SKIPS)

    def refresh_sources(self) -> None:
        """Sync the sources file, then add, update or remove one job per enabled source."""
        self.pipeline.sync_sources()
        with self.pipeline.sessions() as s:
            rows = list(s.execute(sa.select(Source.key, Source.interval_s, Source.last_attempt_at, Source.not_before,
                                            Source.created_at).where(Source.enabled.is_(True))))
        self.due_at = {r.key: _due_at(r, self.started_at) for r in rows}
        with self._jobs_lock:  # APScheduler's shutdown holds its job store lock while it waits for jobs like this
            if not self.pipeline.stop.is_set():
                self._sync_jobs(rows)

    def _sync_jobs(self, rows) -> None:
        wanted = {SOURCE_JOB + r.key: r for r in rows}
        for job in self.scheduler.get_jobs():
            if job.id.startswith(SOURCE_JOB) and job.id not in wanted:
                job.remove()
                log.info("stopped polling %s", job.id[len(SOURCE_JOB):])
        for job_id, r in wanted.items():
            trigger = IntervalTrigger(seconds=r.interval_s, jitter=self.settings.scheduler_jitter_s, timezone="UTC")
            existing = self.scheduler.get_job(job_id)
            if existing is not None:
                if existing.trigger.interval != timedelta(seconds=r.interval_s):
                    existing.reschedule(trigger)
                continue
            first = (r.last_attempt_at + timedelta(seconds=r.interval_s)) if r.last_attempt_at else utcnow()
            poll = _guarded(f"collect {r.key}", lambda key=r.key: self.pipeline.collect(key), self.heartbeats, COLLECT)
            self.scheduler.add_job(poll, trigger, id=job_id, name=job_id, next_run_time=max(first, utcnow()))
            log.info("polling %s every %ss", r.key, r.interval_s)

    def sources_overdue(self) -> bool:
        """Whether an enabled source has waited for its poll longer than stall_after_s past its interval (and
        jitter), as of the last refresh_sources (a minute old at most: /healthz does not query the database)."""
        grace = timedelta(seconds=self.settings.stall_after_s + self.settings.scheduler_jitter_s)
        now = utcnow()
        return any(at + grace < now for at in self.due_at.values())

    def _progress(self, loop: str):
        return lambda: self.heartbeats.beat(loop)

    def loops(self) -> list[tuple[str, object, float]]:
        """(name, pass, interval) of every loop the daemon runs besides the source polls."""
        s, p = self.settings, self.pipeline
        loops = [
            ("sources", self.refresh_sources, 60.0),
            ("analyse", lambda: p.analyse(progress=self._progress("analyse")), s.analyse_interval_s),
            ("route", lambda: p.route(progress=self._progress("route")), s.route_interval_s),
            ("sla", p.check_sla, s.sla_interval_s),
            ("deliver", p.deliver, s.delivery_interval_s),
        ]
        if s.retention_days:
            loops.append(("retention", p.retain, 3600.0))
        return loops

    def schedule(self) -> None:
        now = utcnow()
        self.heartbeats.watch(COLLECT, due=self.sources_overdue)
        for name, func, every in self.loops():
            self.heartbeats.watch(name, every)
            self.scheduler.add_job(_guarded(name, func, self.heartbeats), IntervalTrigger(seconds=every, timezone="UTC"),
                                   id=name, name=name, next_run_time=now)

    def run(self, install_signals: bool = True) -> None:
        if install_signals:
            for sig in (signal.SIGTERM, signal.SIGINT):
                signal.signal(sig, lambda signum, _frame: self.request_stop(signal.Signals(signum).name))
        warning = pseudonym_key_warning(self.settings, self.pipeline.engine.dialect.name)
        if warning:
            log.warning(warning)
        self.schedule()
        if self.settings.metrics_port is not None:
            self.http = serve(self.settings.metrics_host, self.settings.metrics_port,
                              self.pipeline.metrics.registry, self.heartbeats)
            log.info("metrics and /healthz on http://%s:%d", self.settings.metrics_host, self.http.server_port)
        self.scheduler.start()
        log.info("daemon %s started on %s", self.settings.worker_id,
                 self.pipeline.engine.url.render_as_string(hide_password=True))
        self.pipeline.stop.wait()
        log.info("stopping: finishing the batch in hand")
        with self._jobs_lock:  # from here on refresh_sources leaves the jobs alone (no deadlock with shutdown)
            pass
        self.scheduler.shutdown(wait=True)
        if self.http is not None:
            self.http.shutdown()
        self.pipeline.close()
        log.info("daemon stopped")

    def request_stop(self, why: str = "request") -> None:
        """Stop the loops after the batch in hand; collectors' sleeps end at once (collectors.hooks)."""
        log.info("stop requested (%s)", why)
        self.pipeline.stop.set()
