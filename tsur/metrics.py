"""Prometheus metrics: counters fed by the pipeline, gauges read from the database at scrape time."""
from __future__ import annotations

import logging
from datetime import datetime

import sqlalchemy as sa
from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import GaugeMetricFamily
from sqlalchemy.orm import Session, sessionmaker

from storage.tables import Item, Outbox, Source, Ticket, utcnow

log = logging.getLogger(__name__)


class PipelineMetrics:
    """All metrics of one daemon, in their own registry."""

    def __init__(self, sessions: sessionmaker[Session] | None = None):
        self.registry = CollectorRegistry()
        r = self.registry
        self.collected = Counter("tsur_items_collected", "Items stored by collectors (new or edited)",
                                 ["source"], registry=r)
        self.api_errors = Counter("tsur_collector_errors", "Collector errors by source and code",
                                  ["source", "code"], registry=r)
        self.rate_limit_wait = Counter("tsur_rate_limit_wait_seconds", "Seconds slept on rate limits",
                                       ["source"], registry=r)
        self.requests = Counter("tsur_api_requests", "API requests made by collectors", ["source"], registry=r)
        self.analysed = Counter("tsur_items_analysed", "Items analysed", registry=r)
        self.analyse_seconds = Histogram("tsur_analyse_pass_seconds", "Duration of one analysis pass",
                                         registry=r, buckets=(0.01, 0.05, 0.1, 0.5, 1, 2, 5, 10, 30, 60, 300))
        self.decisions = Counter("tsur_decisions", "Routing decisions by outcome", ["outcome"], registry=r)
        self.delivered = Counter("tsur_deliveries", "Outbox deliveries by result", ["result"], registry=r)
        if sessions is not None:
            r.register(_DatabaseGauges(sessions))

    def observe_collect(self, outcome) -> None:
        self.collected.labels(outcome.source).inc(outcome.new + outcome.updated)
        self.requests.labels(outcome.source).inc(outcome.requests)
        self.rate_limit_wait.labels(outcome.source).inc(outcome.waits)
        if outcome.code:
            self.api_errors.labels(outcome.source, outcome.code).inc()


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
        lag = GaugeMetricFamily("tsur_collector_lag_seconds", "Now minus the newest item's publication time",
                                labels=["source"])
        for key, newest in s.execute(sa.select(Item.source, sa.func.max(Item.published_at)).group_by(Item.source)):
            if newest is not None:
                newest = newest if newest.tzinfo else newest.replace(tzinfo=now.tzinfo)
                lag.add_metric([key], (now - newest).total_seconds())
        yield lag
        quiet = GaugeMetricFamily("tsur_source_since_new_item_seconds",
                                  "Now minus the last time a poll of the source stored a new item", labels=["source"])
        for key, at in s.execute(sa.select(Source.key, Source.last_new_item_at)
                                 .where(Source.last_new_item_at.is_not(None))):
            quiet.add_metric([key], (now - at).total_seconds())
        yield quiet
        pending = GaugeMetricFamily("tsur_items_pending", "Items waiting per stage", labels=["stage"])
        for stage, n in s.execute(sa.select(Item.stage, sa.func.count()).group_by(Item.stage)):
            pending.add_metric([stage], n)
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
        disabled = GaugeMetricFamily("tsur_sources_disabled", "Sources switched off (need a human)")
        disabled.add_metric([], s.scalar(sa.select(sa.func.count()).select_from(Source)
                                         .where(Source.enabled.is_(False))) or 0)
        yield disabled
