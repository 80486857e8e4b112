"""The pipeline over one database: sources sync, collect, analyse, route, SLA check, delivery."""
from __future__ import annotations

import logging
import threading
from collections import Counter
from collections.abc import Callable
from functools import cached_property

import sqlalchemy as sa

from collectors import hooks
from collectors.base import SourceConfig
from collectors.errors import NotConfigured
from collectors.pseudonym import Pseudonymizer, load_key
from collectors.registry import build_collector
from collectors.sources_file import load_sources
from storage.db import make_engine, make_sessionmaker, upgrade
from storage.locks import serialize
from storage.runs import scoped
from storage.sources import NOT_CONFIGURED, disable_source, due_sources, source_config, sync_sources
from storage.tables import Source, utcnow
from tsur.metrics import PipelineMetrics
from tsur.settings import ConfigError, Settings
from tsur.stages.analyse import analyse_pending
from tsur.stages.collect import CollectOutcome, collect_source
from tsur.stages.route import route_pending

log = logging.getLogger(__name__)


class Pipeline:
    """Holds the engine, the loaded models and rules; each method is one idempotent stage pass."""

    def __init__(self, settings: Settings, *, migrate: bool = True):
        self.settings = settings
        self.engine = make_engine(settings.db_url)
        if migrate:
            upgrade(self.engine)
        self.sessions = make_sessionmaker(self.engine)
        self.stop = threading.Event()
        self.metrics = PipelineMetrics(self.sessions)
        self._said_no_sources = False

    def check(self) -> None:
        """Load and validate what the stages need (routing policy, gazetteer, sources file, models, pseudonym
        key), so a bad one stops the start with one line before any stage runs."""
        self.policy  # noqa: B018 - each property loads and validates once
        self.gazetteer  # noqa: B018
        self.source_configs()
        self.analyzer  # noqa: B018
        self.pseudonymize  # noqa: B018

    @cached_property
    def gazetteer(self):
        """The gazetteer of settings.region from config_dir/regions/, made the geo analyser's default."""
        from nlp.geo.gazetteer import use_region

        return use_region(self.settings.region, self.settings.regions_dir)

    @cached_property
    def analyzer(self):
        from nlp.analyzer import load_analyzer

        self.gazetteer  # noqa: B018 - the analyser locates places in the configured region
        return load_analyzer(self.settings.models_dir, self.settings.model_version,
                             max_text_chars=self.settings.max_text_chars)

    @cached_property
    def policy(self):
        from routing.policy import load_policy

        return load_policy(self.settings.config_dir)

    @cached_property
    def pseudonymize(self) -> Pseudonymizer:
        return Pseudonymizer(load_key(self.settings.secret("pseudonym_key"), self.settings.data_dir))

    def source_configs(self) -> list[SourceConfig]:
        """The validated sources file; none when the default config/sources.toml does not exist (said once).

        A sources file named explicitly (--sources, TSUR_SOURCES_FILE) must exist.
        """
        path = self.settings.sources_path
        if self.settings.sources_file is None and not path.exists():
            return []
        if not path.exists():
            raise ConfigError(f"{path}: sources file not found (named by --sources or sources_file)")
        return load_sources(path, home_municipalities(self.settings))

    def sync_sources(self) -> dict[str, int]:
        """Bring the sources table in line with the sources file (if there is one); sources disabled as not
        configured are enabled again once they are."""
        configs = self.source_configs()
        if not configs and not self.settings.sources_path.exists() and not self._said_no_sources:
            self._said_no_sources = True
            log.info("no sources file %s: polling only sources added with `tsur sources add` "
                     "(config/sources.example.toml is a starting point)", self.settings.sources_path)
        with self.sessions.begin() as s:
            return sync_sources(s, configs, configured=self.configured)

    def configured(self, config: SourceConfig) -> bool:
        """Whether a collector can be built for `config` here (its secret is set, its file exists)."""
        try:
            build_collector(config, self.settings, self.pseudonymize)
        except NotConfigured:
            return False
        return True

    @scoped
    def collect(self, key: str) -> CollectOutcome:
        """Poll one source now (it must exist in the sources table)."""
        with self.sessions() as s:
            row = s.scalar(sa.select(Source).where(Source.key == key))
            if row is None:
                raise KeyError(f"unknown source {key!r}")
            config = source_config(row)
        try:
            collector = build_collector(config, self.settings, self.pseudonymize)
        except NotConfigured as exc:
            with self.sessions.begin() as s:
                disable_source(s.scalar(sa.select(Source).where(Source.key == key)), f"{NOT_CONFIGURED}{exc}")
            log.warning("source %s not configured, disabled until it is: %s", key, exc)
            outcome = CollectOutcome(key, "disabled", error=str(exc), code="not_configured")
        else:  # retried errors and waits reach the metrics as they happen; a stop cuts the poll's sleeps short
            with hooks.polling(key, sink=self.metrics, stop=self.stop):
                outcome = collect_source(self.sessions, key, collector, worker=self.settings.worker_id,
                                         ttl_s=self.settings.lease_ttl_s, max_pages=self.settings.max_pages_per_poll,
                                         max_text_chars=self.settings.max_text_chars)
        self.metrics.observe_collect(outcome)
        return outcome

    def collect_due(self) -> list[CollectOutcome]:
        """Poll every enabled source whose interval has passed."""
        with self.sessions() as s:
            keys = [src.key for src in due_sources(s, utcnow())]
        outcomes = []
        for key in keys:
            if self.stop.is_set():
                break
            outcomes.append(self.collect(key))
        return outcomes

    @scoped
    def analyse(self, progress: Callable[[], None] | None = None) -> int:
        """Analyse what waits; metrics (and `progress`, the daemon's heartbeat) move with each stored batch."""
        def stored(items):
            self.metrics.observe_analysed(items)
            if progress:
                progress()

        with self.metrics.analyse_seconds.time():
            return analyse_pending(self.sessions, self.analyzer, worker=self.settings.worker_id,
                                   batch=self.settings.analyse_batch, stop=self.stop, on_batch=stored)

    @scoped
    def route(self, progress: Callable[[], None] | None = None) -> Counter:
        """Route what waits; metrics (and `progress`) move with each stored batch."""
        def stored(counts, decided):
            self.metrics.observe_routed(counts, decided)
            if progress:
                progress()

        return route_pending(self.sessions, self.policy, worker=self.settings.worker_id,
                             batch=self.settings.route_batch, stop=self.stop, on_batch=stored)

    @scoped
    def check_sla(self) -> dict[str, int]:
        from routing.sla import check_sla

        with self.sessions.begin() as s:
            serialize(s, "tickets")  # the SLA pass updates many tickets: not interleaved with routing
            return check_sla(s, utcnow(), self.policy)

    @scoped
    def deliver(self) -> dict[str, int]:
        from routing.delivery import deliver_pending

        result = deliver_pending(self.sessions, utcnow(), self.policy)
        for key, n in result.items():
            self.metrics.delivered.labels(key).inc(n)
        return result

    @scoped
    def retain(self) -> int:
        """Purge personal data of items finished more than retention_days ago (off when unset)."""
        if not self.settings.retention_days:
            return 0
        from storage.retention import purge

        with self.sessions.begin() as s:
            n = purge(s, utcnow(), self.settings.retention_days)
        if n:
            log.info("retention: purged personal data of %d items older than %d days", n, self.settings.retention_days)
        return n

    @scoped
    def run_once(self) -> dict[str, object]:
        """One full pass under one run id: sync sources, collect every enabled source, analyse, route, SLA,
        deliver, and retention when retention_days is set."""
        self.sync_sources()
        with self.sessions() as s:
            keys = list(s.scalars(sa.select(Source.key).where(Source.enabled.is_(True)).order_by(Source.id)))
        collected = [self.collect(k) for k in keys if not self.stop.is_set()]
        analysed = self.analyse()
        routed = self.route()
        sla = self.check_sla()
        delivered = self.deliver()
        return {"collected": collected, "analysed": analysed, "routed": dict(routed), "sla": sla,
                "delivered": delivered, "retained": self.retain()}

    def close(self) -> None:
        self.engine.dispose()


def home_municipalities(settings: Settings) -> frozenset[str]:
    """The names a source's home_municipality may take: municipalities and okrugs of the region's gazetteer."""
    from nlp.geo.gazetteer import load_gazetteer

    return frozenset(load_gazetteer(settings.region, settings.regions_dir).homes)

