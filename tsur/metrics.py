"""Prometheus metrics: counters fed by the pipeline as work is done, gauges read from the database at scrape time.

Counters move per stored batch (analysis, routing) and as collectors retry or pause (collectors.hooks),
not only when a pass ends. Scrape-time gauges read the small sources, tickets and outbox tables and the
items per pending stage through the ix_items_stage index; no query scans the items table.
"""
from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import datetime

import sqlalchemy as sa
from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import GaugeMetricFamily
from sqlalchemy.orm import Session, sessionmaker

from storage.tables import Item, Outbox, Source, Ticket, utcnow

log = logging.getLogger(__name__)
PENDING_STAGES = ("analyse", "route")  # items.stage values that wait for work ("done" does not)
# Seconds from an item being stored (or published) to its analysis or decision: a minute to a week.
LATENCY_BUCKETS = (1, 5, 15, 60, 300, 900, 1800, 3600, 3 * 3600, 9 * 3600, 86400, 3 * 86400, 7 * 86400)


class PipelineMetrics:
    """All metrics of one daemon, in their own registry; also the sink of collectors.hooks."""

    def __init__(self, sessions: sessionmaker[Session] | None = None):
        self.registry = CollectorRegistry()
        r = self.registry
        self.collected = Counter("tsur_items_collected", "Items stored by collectors (new or edited)",
                                 ["source"], registry=r)
        self.api_errors = Counter("tsur_collector_errors", "Polls that ended in an error, by the code of that error",
                                  ["source", "code"], registry=r)
        self.api_retries = Counter("tsur_api_retries", "API errors a collector backed off from and retried within "
                                   "a poll (VK 6/9/10/29, http_5xx, network errors, FLOOD_WAIT), by code",
                                   ["source", "code"], registry=r)
        self.rate_limit_wait = Counter("tsur_rate_limit_wait_seconds", "Seconds collectors slept: code=pacing for "
                                       "the request-rate limiter, else the error code backed off from",
                                       ["source", "code"], registry=r)
        self.requests = Counter("tsur_api_requests", "API requests made by collectors", ["source"], registry=r)
        self.analysed = Counter("tsur_items_analysed", "Items analysed", registry=r)
        self.analyse_seconds = Histogram("tsur_analyse_pass_seconds", "Duration of one analysis pass",
                                         registry=r, buckets=(0.01, 0.05, 0.1, 0.5, 1, 2, 5, 10, 30, 60, 300))
        self.analysis_latency = Histogram("tsur_analysis_latency_seconds", "Per item: seconds from storing its "
                                          "current revision (first_seen_at unless edited) to its analysis",
                                          registry=r, buckets=LATENCY_BUCKETS)
        self.decisions = Counter("tsur_decisions", "Routing decisions by outcome", ["outcome"], registry=r)
        self.decision_latency = Histogram("tsur_decision_latency_seconds", "Per decided item: seconds to its routing "
                                          "decision since it was stored (since=seen) or published (since=published)",
                                          ["since"], registry=r, buckets=LATENCY_BUCKETS)
        self.delivered = Counter("tsur_deliveries", "Outbox deliveries by result", ["result"], registry=r)
        if sessions is not None:
            r.register(_DatabaseGauges(sessions))

    def observe_collect(self, outcome) -> None:
        """One finished poll (its waits and retries were counted as they happened)."""
        self.collected.labels(outcome.source).inc(outcome.new + outcome.updated)
        self.requests.labels(outcome.source).inc(outcome.requests)
        if outcome.code:
            self.api_errors.labels(outcome.source, outcome.code).inc()

    def api_retry(self, source: str, code: str, seconds: float, errors: int = 1) -> None:
        """collectors.hooks: `errors` API errors retried after a pause of `seconds`."""
        self.api_retries.labels(source, code).inc(errors)
        if seconds > 0:
            self.rate_limit_wait.labels(source, code).inc(seconds)

    def api_wait(self, source: str, code: str, seconds: float) -> None:
        """collectors.hooks: a pause that is not a retry (code "pacing")."""
        self.rate_limit_wait.labels(source, code).inc(seconds)

    def observe_analysed(self, items: Iterable[Item], now: datetime | None = None) -> None:
        """One stored analysis batch: the count and each item's wait since it was stored."""
        now = now or utcnow()
        n = 0
        for item in items:
            n += 1
            self.analysis_latency.observe(max(0.0, (now - item.updated_at).total_seconds()))
        self.analysed.inc(n)

    def observe_routed(self, counts: dict[str, int], decided: Iterable[Item], now: datetime | None = None) -> None:
        """One stored routing batch: decisions by outcome and each decided item's latency."""
        now = now or utcnow()
        for outcome, n in counts.items():
            self.decisions.labels(outcome).inc(n)
        for item in decided:
            self.decision_latency.labels("seen").observe(max(0.0, (now - item.updated_at).total_seconds()))
            self.decision_latency.labels("published").observe(max(0.0, (now - item.published_at).total_seconds()))


class _DatabaseGauges:
    """Gauges that are facts in the database: lag, backlog, open and overdue tickets."""

    def __init__(self, sessions: sessionmaker[Session]):
        self.sessions = sessions

    def describe(self):
        return []

    def collect(self):
        now = utcnow()
        try:
            with self.sessions() as s:
                yield from self._families(s, now)
        except sa.exc.SQLAlchemyError as exc:
            log.warning("metrics: database unavailable: %s", str(exc).splitlines()[0])

    def _families(self, s: Session, now: datetime):
        yield from _source_families(s, now)
        pending = GaugeMetricFamily("tsur_items_pending", "Items waiting per stage (analyse, route)", labels=["stage"])
        counts = dict(s.execute(sa.select(Item.stage, sa.func.count()).where(Item.stage.in_(PENDING_STAGES))
                                .group_by(Item.stage)).all())
        for stage in PENDING_STAGES:
            pending.add_metric([stage], counts.get(stage, 0))
        yield pending
        tickets = GaugeMetricFamily("tsur_tickets_open", "Open tickets by agency and SLA state",
                                    labels=["agency", "sla_state"])
        rows = s.execute(sa.select(Ticket.agency, Ticket.sla_state, sa.func.count())
                         .where(Ticket.status != "closed", Ticket.merged_into.is_(None))
                         .group_by(Ticket.agency, Ticket.sla_state))
        for agency, state, n in rows:
            tickets.add_metric([agency or "triage", state], n)
        yield tickets
        outbox = GaugeMetricFamily("tsur_outbox_backlog", "Deliveries not yet sent", labels=["channel"])
        for channel, n in s.execute(sa.select(Outbox.channel, sa.func.count())
                                    .where(Outbox.status == "pending").group_by(Outbox.channel)):
            outbox.add_metric([channel], n)
        yield outbox


def _source_families(s: Session, now: datetime):
    """Per-source gauges from the sources table alone (one row per source, no item scan)."""
    lag = GaugeMetricFamily("tsur_collector_lag_seconds", "Seconds since the source's last successful poll "
                            "(since it was added, if none yet); a quiet source that polls fine stays low",
                            labels=["source"])
    quiet = GaugeMetricFamily("tsur_source_since_new_item_seconds",
                              "Now minus the last time a poll of the source stored a new item", labels=["source"])
    disabled = 0
    rows = s.execute(sa.select(Source.key, Source.enabled, Source.created_at, Source.last_success_at,
                               Source.last_new_item_at))
    for key, enabled, created_at, success_at, new_item_at in rows:
        if new_item_at is not None:
            quiet.add_metric([key], (now - new_item_at).total_seconds())
        if enabled:
            lag.add_metric([key], max(0.0, (now - (success_at or created_at)).total_seconds()))
        else:
            disabled += 1
    yield lag
    yield quiet
    gauge = GaugeMetricFamily("tsur_sources_disabled", "Sources switched off (need a human)")
    gauge.add_metric([], disabled)
    yield gauge
