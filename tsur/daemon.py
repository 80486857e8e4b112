"""The daemon: APScheduler jobs for each source and for the analyse/route/SLA/delivery loops.

SIGTERM/SIGINT set the stop flag: loops finish the batch in hand, the scheduler waits for running
jobs, and the process exits. Every job logs its own failure and tries again on its next tick.
"""
from __future__ import annotations

import logging
import signal
from datetime import timedelta

import sqlalchemy as sa
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.interval import IntervalTrigger

from storage.tables import Source, utcnow
from storage.runs import new_run_id
from tsur.health import Heartbeats, serve
from tsur.logs import run_id_var
from tsur.pipeline import Pipeline

log = logging.getLogger(__name__)
SOURCE_JOB = "source:"


def _guarded(name: str, func, heartbeats: Heartbeats | None = None):
    """Run `func` with a fresh run id; log (never raise) its failure so the scheduler keeps going.

    A pass that completes is a heartbeat; a loop that keeps failing stops beating and turns /healthz red.
    """

    def job():
        token = run_id_var.set(new_run_id())
        try:
            func()
            if heartbeats:
                heartbeats.beat(name)
        except Exception as exc:  # the next tick retries; the error is visible in logs and runs
            message = str(exc).splitlines()[0] if str(exc) else exc.__class__.__name__
            log.error("%s failed: %s", name, message)
            log.debug("%s traceback", name, exc_info=True)
            if heartbeats:
                heartbeats.record_error(name, message)
        finally:
            run_id_var.reset(token)

    return job


class Daemon:
    """Schedules the pipeline's stages; `run()` blocks until a stop signal."""

    def __init__(self, pipeline: Pipeline):
        self.pipeline = pipeline
        self.settings = pipeline.settings
        self.heartbeats = Heartbeats(self.settings.stall_after_s)
        self.http = None
        self.scheduler = BackgroundScheduler(
            executors={"default": ThreadPoolExecutor(4)},
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 300},
            timezone="UTC",
        )

    def refresh_sources(self) -> None:
        """Sync the sources file, then add, update or remove one job per enabled source."""
        self.pipeline.sync_sources()
        with self.pipeline.sessions() as s:
            rows = list(s.execute(sa.select(Source.key, Source.interval_s, Source.last_attempt_at)
                                  .where(Source.enabled.is_(True))))
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
            self.scheduler.add_job(_guarded(f"collect {r.key}", lambda key=r.key: self.pipeline.collect(key)),
                                   trigger, id=job_id, name=job_id, next_run_time=max(first, utcnow()))
            log.info("polling %s every %ss", r.key, r.interval_s)

    def schedule(self) -> None:
        s, now = self.settings, utcnow()
        loops = [
            ("sources", self.refresh_sources, 60.0),
            ("analyse", self.pipeline.analyse, s.analyse_interval_s),
            ("route", self.pipeline.route, s.route_interval_s),
            ("sla", self.pipeline.check_sla, s.sla_interval_s),
            ("deliver", self.pipeline.deliver, s.delivery_interval_s),
        ]
        if s.retention_days:
            loops.append(("retention", self.pipeline.retain, 3600.0))
        for name, func, every in loops:
            self.heartbeats.watch(name)
            self.scheduler.add_job(_guarded(name, func, self.heartbeats), IntervalTrigger(seconds=every, timezone="UTC"),
                                   id=name, name=name, next_run_time=now)

    def run(self, install_signals: bool = True) -> None:
        if install_signals:
            for sig in (signal.SIGTERM, signal.SIGINT):
                signal.signal(sig, lambda signum, _frame: self.request_stop(signal.Signals(signum).name))
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
        self.scheduler.shutdown(wait=True)
        if self.http is not None:
            self.http.shutdown()
        self.pipeline.close()
        log.info("daemon stopped")

    def request_stop(self, why: str = "request") -> None:
        log.info("stop requested (%s)", why)
        self.pipeline.stop.set()

