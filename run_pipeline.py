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
    """Exit 0 when done, 2 with one `error: …` line on bad input or config (nothing runs), 1 on a bug."""
    args = parse_args(argv)
    from tsur.errors import EXIT_ERROR, known_errors, one_line

    try:
        from tsur.settings import load_settings

        settings = load_settings(
            args.config, database_url=args.database_url, data_dir=args.data_dir, sources_file=args.sources_file,
            log_level=args.log_level, log_format=args.log_format, metrics_port=args.metrics_port,
            worker_id=args.worker_id,
        )
        from tsur.logs import settings_secrets, setup_logging

        setup_logging(settings.log_level, settings.log_format, settings_secrets(settings))
        return run(settings, once=args.once)
    except KeyboardInterrupt:
        return 130
    except known_errors() as exc:
        log.debug("stopped on %s", exc.__class__.__name__, exc_info=True)
        print(f"error: {one_line(exc)}", file=sys.stderr)
        return EXIT_ERROR
    except Exception as exc:  # a bug: one line here, the traceback in the log at debug level
        log.debug("unexpected error", exc_info=True)
        print(f"error: unexpected {exc.__class__.__name__}: {one_line(exc)} (--log-level DEBUG shows the traceback)",
              file=sys.stderr)
        return 1


def run(settings, once: bool) -> int:
    from tsur.startup import start_pipeline

    pipeline = start_pipeline(settings, serve_metrics=not once)
    if once:
        from storage.runs import run_scope
        from tsur.report import print_summary

        try:
            with run_scope():  # the pass has one run id: its runs rows and every log line, these included
                result = pipeline.run_once()
                for outcome in result["collected"]:
                    log.info("collected %s: %s, %d new, %d updated, %d quarantined", outcome.source,
                             outcome.status, outcome.new, outcome.updated, outcome.quarantined)
            with pipeline.sessions() as s:
                print_summary(s)
        finally:
            pipeline.close()
        return 0
    from tsur.daemon import Daemon

    Daemon(pipeline).run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
