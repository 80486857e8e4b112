#!/usr/bin/env python3
"""tsur-monitor daemon: collect -> analyse -> route -> deliver on a schedule, or once with --once.

Examples:
    python run_pipeline.py --once --sources samples/sources.toml     # one pass over the bundled sample
    TSUR_DATABASE_URL=postgresql+psycopg://tsur@db/tsur python run_pipeline.py   # the daemon
"""
from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

log = logging.getLogger("tsur")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--once", action="store_true", help="run one pass of every stage, print a summary and exit")
    p.add_argument("--config", type=Path, help="TOML config file (overrides config/defaults.toml)")
    p.add_argument("--database-url", help="SQLAlchemy URL (default: SQLite in data_dir)")
    p.add_argument("--data-dir", type=Path, help="where the SQLite database and local state live")
    p.add_argument("--sources", type=Path, dest="sources_file", help="sources file (default config/sources.toml)")
    p.add_argument("--log-level", help="DEBUG, INFO, WARNING …")
    p.add_argument("--log-format", choices=["text", "json"])
    p.add_argument("--metrics-port", type=int, help="serve Prometheus metrics and /healthz on this port")
    p.add_argument("--worker-id", help="name of this daemon in leases and runs (default host:pid)")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    from storage.db import DatabaseUnavailable
    from tsur.settings import ConfigError, load_settings

    try:
        settings = load_settings(
            args.config, database_url=args.database_url, data_dir=args.data_dir, sources_file=args.sources_file,
            log_level=args.log_level, log_format=args.log_format, metrics_port=args.metrics_port,
            worker_id=args.worker_id,
        )
        from tsur.logs import settings_secrets, setup_logging

        setup_logging(settings.log_level, settings.log_format, settings_secrets(settings))
        return run(settings, once=args.once)
    except (ConfigError, DatabaseUnavailable, KeyError, FileNotFoundError) as exc:
        print(f"error: {str(exc).strip(chr(39))}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


def run(settings, once: bool) -> int:
    from tsur.pipeline import Pipeline

    pipeline = Pipeline(settings)
    if once:
        from tsur.report import print_summary

        result = pipeline.run_once()
        for outcome in result["collected"]:
            log.info("collected %s: %s, %d new, %d updated, %d quarantined", outcome.source, outcome.status,
                     outcome.new, outcome.updated, outcome.quarantined)
        with pipeline.sessions() as s:
            print_summary(s)
        pipeline.close()
        return 0
    from tsur.daemon import Daemon

    Daemon(pipeline).run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
