"""One pipeline worker process for fault tests and the load bench.

    python -m tests.support.worker DB_URL NAME --config-dir D --sources F [--mode loop|daemon]
                                    [--kill-at STAGE:N] [--delay S] [--analyzer echo|real]

`loop` runs Pipeline.run_once() over and over (each failure is logged and retried, as the daemon
does); `daemon` runs the real Daemon with short intervals. `--kill-at analyse:2` makes the process
SIGKILL itself at the 2nd analysed batch, after the work and before its commit (collect: after a
page is saved, before commit; route: after the decisions, before commit; deliver: after the webhook
was sent, before it is marked sent). SIGTERM stops the worker cleanly; it prints "ready" and "done".
"""
from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
from pathlib import Path

log = logging.getLogger("tsur.worker")
STAGES = ("collect", "analyse", "route", "deliver")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("db_url")
    p.add_argument("name")
    p.add_argument("--config-dir", type=Path, required=True)
    p.add_argument("--sources", type=Path, required=True)
    p.add_argument("--data-dir", type=Path, default=Path("var"))
    p.add_argument("--mode", choices=["loop", "daemon"], default="loop")
    p.add_argument("--kill-at", help="STAGE:N, STAGE one of " + ", ".join(STAGES))
    p.add_argument("--delay", type=float, default=0.0, help="seconds the test analyzer spends per item")
    p.add_argument("--analyzer", choices=["echo", "real"], default="echo")
    p.add_argument("--batch", type=int, default=50)
    return p.parse_args(argv)


def die() -> None:
    """SIGKILL ourselves: no cleanup, no commit, exactly like a crash or the OOM killer."""
    sys.stdout.flush()
    os.kill(os.getpid(), signal.SIGKILL)


def _after(n: int, func):
    """Wrap `func` so that its n-th call completes and then the process dies."""
    calls = [0]

    def wrapped(*args, **kwargs):
        result = func(*args, **kwargs)
        calls[0] += 1
        if calls[0] >= n:
            die()
        return result

    return wrapped


def install_kill(spec: str, pipeline) -> None:
    """Arm the self-kill described by `spec` (STAGE:N)."""
    stage, _, count = spec.partition(":")
    n = int(count or 1)
    if stage == "collect":
        import tsur.stages.collect as collect

        collect.save_page = _after(n, collect.save_page)
    elif stage == "analyse":
        pipeline.analyzer.analyze = _after(n, pipeline.analyzer.analyze)
    elif stage == "route":
        import routing.stage as route_stage

        route_stage.route_items = _after(n, route_stage.route_items)
    elif stage == "deliver":
        import routing.delivery as delivery

        delivery.send = _after(n, delivery.send)
    else:
        raise SystemExit(f"--kill-at: unknown stage {stage!r}; expected one of {', '.join(STAGES)}")


def build_pipeline(args: argparse.Namespace):
    """A Pipeline over the test database with short leases and a test (or the real) analyzer."""
    from tsur.pipeline import Pipeline
    from tsur.settings import load_settings

    settings = load_settings(
        database_url=args.db_url, data_dir=args.data_dir, sources_file=args.sources, config_dir=args.config_dir,
        worker_id=args.name, lease_ttl_s=2.0, max_pages_per_poll=2, analyse_batch=args.batch,
        route_batch=args.batch, analyse_interval_s=0.2, route_interval_s=0.2, sla_interval_s=1.0,
        delivery_interval_s=0.3, scheduler_jitter_s=0.0, log_level="WARNING",
    )
    pipeline = Pipeline(settings, migrate=False)
    if args.analyzer == "echo":
        from tests.support.analyzers import RoutableAnalyzer

        pipeline.analyzer = RoutableAnalyzer(args.delay)
    else:
        pipeline.analyzer  # load the model now, not inside the first batch  # noqa: B018
    return pipeline


def run_loop(pipeline) -> None:
    """run_once() until stopped; a failed pass is logged and retried after a short pause."""
    while not pipeline.stop.is_set():
        try:
            pipeline.run_once()
        except Exception as exc:  # noqa: BLE001 - like the daemon: log, retry next tick
            log.warning("pass failed: %s", str(exc).splitlines()[0] if str(exc) else type(exc).__name__)
            pipeline.stop.wait(0.3)
        pipeline.stop.wait(0.05)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format=f"{args.name} %(levelname)s %(name)s: %(message)s")
    pipeline = build_pipeline(args)
    if args.kill_at:
        install_kill(args.kill_at, pipeline)
    print("ready", flush=True)
    if args.mode == "daemon":
        from tsur.daemon import Daemon

        Daemon(pipeline).run()
    else:
        signal.signal(signal.SIGTERM, lambda *_: pipeline.stop.set())
        run_loop(pipeline)
        pipeline.close()
    print("done", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
