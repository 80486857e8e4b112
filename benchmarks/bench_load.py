"""Load proof: N recorded items through the whole pipeline on PostgreSQL with 1, 2, 4 … worker processes.

Example:
    TSUR_TEST_POSTGRES_URL=postgresql+psycopg://postgres@127.0.0.1:5432/test \\
        python benchmarks/bench_load.py --items 5000 --workers 1,2

Items are generated from the sample texts (samples/texts.tsv) with a fixed seed: numbers, openers and
addresses vary, each item gets one of 8 origin sources (each with its home municipality). They are
written as JSONL replay files (8 replay sources), so the workers run the real path: replay collector →
items → the real analyzer (models/ACTIVE; `--analyzer echo` for a test double) → routing → tickets.
Each worker count runs in a fresh schema. Every worker loops over collect, analyse and route (the
daemon's jobs, one after the other; a failed pass is retried like the daemon does); the clock starts
once every worker has loaded its models and stops when every item has a decision.

Printed per run: items/s; latency percentiles — in a replay there is no real "published" moment, so
latency is measured from the moment the item was stored (items.first_seen_at) to its decision's
created_at; and the peak memory of each worker (ru_maxrss, reported by the worker when it stops).
"""
from __future__ import annotations

import argparse
import csv
import json
import os
import random
import re
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

SOURCES = 8
MUNICIPALITIES = ("городской округ Симферополь", "городской округ Ялта", "городской округ Керчь",
                  "городской округ Евпатория", "Бахчисарайский район", "городской округ Феодосия",
                  "Симферопольский район", "городской округ Алушта")
OPENERS = ("", "", "Опять! ", "Люди, помогите. ", "Третий день уже. ", "Администрация, ответьте! ", "Доброе утро. ")
STREETS = ("Ленина", "Кирова", "Пушкина", "Гагарина", "Киевская", "Севастопольская", "Московская", "Победы")


# -- the world ---------------------------------------------------------------------------------------
def sample_texts() -> list[str]:
    """The sample texts the synthetic items are made from."""
    with open(ROOT / "samples" / "texts.tsv", encoding="utf-8", newline="") as fh:
        return [row["text"].replace("\\n", "\n") for row in csv.DictReader(fh, delimiter="\t") if row["text"]]


def make_text(rng: random.Random, base: str) -> str:
    """A variant of `base`: other numbers, maybe an opener and an address."""
    text = re.sub(r"\d+", lambda m: str(rng.randint(1, 120)), base)
    text = rng.choice(OPENERS) + text
    if rng.random() < 0.3:
        text += f" Адрес: ул. {rng.choice(STREETS)}, {rng.randint(1, 90)}."
    return text


def write_world(folder: Path, n_items: int, seed: int) -> Path:
    """Replay files and a sources file for `n_items` items; returns the sources file."""
    rng, bases = random.Random(seed), sample_texts()
    files = [open(folder / f"replay_{s}.jsonl", "w", encoding="utf-8") for s in range(SOURCES)]
    try:
        for i in range(n_items):
            s = rng.randrange(SOURCES)
            origin = f"vk:wall:-{500_000 + s}"
            files[s].write(json.dumps({"type": "raw_item", "source": f"replay:{s}", "payload": {
                "platform": "vk", "source": origin, "item_id": str(i), "published_at": "2026-11-20T10:00:00+03:00",
                "text": make_text(rng, rng.choice(bases)), "url": f"https://vk.com/wall-{500_000 + s}_{i}"}},
                ensure_ascii=False) + "\n")
    finally:
        for fh in files:
            fh.close()
    blocks = []
    for s in range(SOURCES):
        blocks.append(f'[[source]]\ntype = "replay"\nhandle = "{folder / f"replay_{s}.jsonl"}"\ninterval = 3600\n'
                      f"options = {{ page_lines = 500 }}\n")
        blocks.append(f'[[source]]\ntype = "vk_wall"\nhandle = "-{500_000 + s}"\nenabled = false\n'
                      f'home_municipality = "{MUNICIPALITIES[s]}"\n')
    path = folder / "sources.toml"
    path.write_text("\n".join(blocks), encoding="utf-8")
    return path


# -- one worker process ------------------------------------------------------------------------------
def keys(pipeline) -> list[str]:
    """Enabled sources (the replays)."""
    import sqlalchemy as sa

    from storage.tables import Source

    with pipeline.sessions() as s:
        return list(s.scalars(sa.select(Source.key).where(Source.enabled.is_(True)).order_by(Source.id)))


def run_worker(url: str, name: str, sources: Path, analyzer: str, route_batch: int = 200) -> int:
    """Loop collect, analyse, route (the daemon's jobs, in one thread) until SIGTERM; then print this
    process's peak memory and the failed passes by stage and error as JSON."""
    import logging

    from tsur.pipeline import Pipeline
    from tsur.settings import load_settings

    logging.basicConfig(level=logging.WARNING, format=f"{name} %(levelname)s %(name)s: %(message)s")
    settings = load_settings(database_url=url, sources_file=sources, worker_id=name, lease_ttl_s=120,
                             max_pages_per_poll=4, analyse_batch=500, route_batch=route_batch, log_level="WARNING",
                             data_dir=sources.parent, models_dir=sources.parent / "models")
    pipeline = Pipeline(settings, migrate=False)
    pipeline.run_collect = lambda: [pipeline.collect(k) for k in keys(pipeline)]
    if analyzer == "echo":
        from tests.support.analyzers import RoutableAnalyzer

        pipeline.analyzer = RoutableAnalyzer()
    else:
        pipeline.analyzer  # noqa: B018 - load the models before the clock starts
    signal.signal(signal.SIGTERM, lambda *_: pipeline.stop.set())
    print("ready", flush=True)
    passes, failures = 0, {}
    stages = (("collect", pipeline.run_collect), ("analyse", pipeline.analyse), ("route", pipeline.route))
    while not pipeline.stop.is_set():
        for stage, func in stages:
            try:
                func()
            except Exception as exc:  # noqa: BLE001 - as the daemon: log and go on
                cause = getattr(exc, "orig", None) or exc
                key = f"{stage}: {type(cause).__name__}"
                failures[key] = failures.get(key, 0) + 1
                logging.getLogger("bench").info("%s failed: %s", stage, str(cause).splitlines()[0][:300])
        passes += 1
        pipeline.stop.wait(0.05)
    pipeline.close()
    usage = resource.getrusage(resource.RUSAGE_SELF)
    print(json.dumps({"name": name, "maxrss_mb": round(usage.ru_maxrss / 1024, 1), "passes": passes,
                      "failures": failures,
                      "cpu_s": round(usage.ru_utime + usage.ru_stime, 1)}), flush=True)
    return 0


# -- the parent ---------------------------------------------------------------------------------------
def fresh_schema(base_url: str) -> tuple[str, str]:
    """A new schema on the server and a URL whose search_path is it."""
    import sqlalchemy as sa

    schema = f"bench_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(base_url)
    with admin.begin() as conn:
        conn.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
    admin.dispose()
    url = sa.make_url(base_url).update_query_dict({"options": f"-csearch_path={schema}"})
    return url.render_as_string(hide_password=False), schema


def drop_schema(base_url: str, schema: str) -> None:
    import sqlalchemy as sa

    admin = sa.create_engine(base_url)
    with admin.begin() as conn:
        conn.exec_driver_sql(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
    admin.dispose()


def prepare(url: str, sources: Path):
    """Migrate the schema and register the sources."""
    from collectors.sources_file import load_sources
    from storage.db import make_engine, make_sessionmaker, upgrade
    from storage.sources import sync_sources

    engine = make_engine(url)
    upgrade(engine)
    sessions = make_sessionmaker(engine)
    with sessions.begin() as s:
        sync_sources(s, load_sources(sources))
    return sessions


def counts(sessions) -> dict[str, int]:
    """Items stored, analysed and decided so far."""
    import sqlalchemy as sa

    from storage.tables import AnalysisRow, Decision, Item

    with sessions() as s:
        return {name: s.scalar(sa.select(sa.func.count()).select_from(table))
                for name, table in (("stored", Item), ("analysed", AnalysisRow), ("decided", Decision))}


def latency(sessions) -> dict[str, float]:
    """Seconds from items.first_seen_at to decisions.created_at: p50, p90, p99, max."""
    import sqlalchemy as sa

    with sessions() as s:
        row = s.execute(sa.text(
            "SELECT percentile_cont(ARRAY[0.5, 0.9, 0.99]) WITHIN GROUP (ORDER BY lat), max(lat) FROM "
            "(SELECT extract(epoch FROM d.created_at - i.first_seen_at) AS lat "
            " FROM decisions d JOIN items i ON i.id = d.item_pk) x")).one()
        outcomes = dict(s.execute(sa.text("SELECT outcome, count(*) FROM decisions GROUP BY outcome")).all())
    p50, p90, p99 = row[0] or (0.0, 0.0, 0.0)
    return {"p50": p50, "p90": p90, "p99": p99, "max": float(row[1] or 0.0), "outcomes": outcomes}


def run_once(base_url: str, sources: Path, n_items: int, workers: int, args: argparse.Namespace) -> dict:
    """One measured run with `workers` processes in a fresh schema."""
    keep = args.keep
    url, schema = fresh_schema(base_url)
    try:
        return measure(url, sources, n_items, workers, args)
    finally:
        if not keep:
            drop_schema(base_url, schema)


def measure(url: str, sources: Path, n_items: int, workers: int, args: argparse.Namespace) -> dict:
    """Start the workers, wait until every item has a decision, collect the figures."""
    analyzer, timeout = args.analyzer, args.timeout
    sessions = prepare(url, sources)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    cmd = [sys.executable, str(Path(__file__).resolve()), "--worker", url, "--sources", str(sources),
           "--analyzer", analyzer, "--route-batch", str(args.route_batch)]
    procs = [subprocess.Popen(cmd + ["--name", f"w{i}"], cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True)
             for i in range(workers)]
    try:
        for p in procs:
            if p.stdout.readline().strip() != "ready":
                raise SystemExit(f"a worker did not start (exit {p.poll()})")
        t0, marks, last = time.monotonic(), {}, {}
        while time.monotonic() - t0 < timeout:
            last = counts(sessions)
            for stage in ("stored", "analysed", "decided"):
                if stage not in marks and last[stage] >= n_items:
                    marks[stage] = time.monotonic() - t0
            if "decided" in marks:
                break
            time.sleep(0.5)
        elapsed = time.monotonic() - t0
    finally:
        for p in procs:
            p.send_signal(signal.SIGTERM)
        reports = []
        for p in procs:
            out, _ = p.communicate(timeout=120)
            reports += [json.loads(line) for line in out.splitlines() if line.startswith("{")]
    done = counts(sessions)["decided"]  # all of them, unless the run timed out
    result = {"workers": workers, "items": n_items, "decided": done, "seconds": round(elapsed, 1),
              "items_per_s": round(done / elapsed, 1), "stored_at_s": marks.get("stored"),
              "analysed_at_s": marks.get("analysed"), **latency(sessions),
              "memory_mb": [r["maxrss_mb"] for r in sorted(reports, key=lambda r: r["name"])],
              "cpu_s": [r["cpu_s"] for r in sorted(reports, key=lambda r: r["name"])],
              "failed_passes": merge([r["failures"] for r in reports])}
    sessions.kw["bind"].dispose()
    return result


def merge(dicts: list[dict[str, int]]) -> dict[str, int]:
    out: dict[str, int] = {}
    for d in dicts:
        for k, v in d.items():
            out[k] = out.get(k, 0) + v
    return out


def print_result(r: dict) -> None:
    at = {k: "never" if r[k] is None else f"{r[k]:.1f}s" for k in ("stored_at_s", "analysed_at_s")}
    partial = "" if r["decided"] == r["items"] else f" TIMED OUT with {r['decided']} decided"
    print(f"workers={r['workers']} items={r['items']} time={r['seconds']}s -> {r['items_per_s']} items/s{partial} "
          f"(all stored at {at['stored_at_s']}, analysed at {at['analysed_at_s']})")
    print(f"  latency first_seen_at -> decision: p50 {r['p50']:.1f}s  p90 {r['p90']:.1f}s  p99 {r['p99']:.1f}s  "
          f"max {r['max']:.1f}s")
    print(f"  peak RSS per worker (MB): {r['memory_mb']}  CPU s per worker: {r['cpu_s']}")
    print(f"  decisions: {r['outcomes']}  failed passes (retried): {r['failed_passes'] or 'none'}", flush=True)


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--items", type=int, default=100_000)
    p.add_argument("--workers", default="1,2,4", help="comma-separated worker counts, one run each")
    p.add_argument("--database-url", default=os.environ.get("TSUR_BENCH_POSTGRES_URL")
                   or os.environ.get("TSUR_TEST_POSTGRES_URL"), help="PostgreSQL server (a schema per run)")
    p.add_argument("--analyzer", choices=["real", "echo"], default="real")
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--timeout", type=float, default=3600.0, help="seconds allowed per run")
    p.add_argument("--keep", action="store_true", help="keep each run's schema for inspection")
    p.add_argument("--route-batch", type=int, default=200, help="items per route transaction (setting route_batch)")
    p.add_argument("--worker", metavar="URL", help=argparse.SUPPRESS)
    p.add_argument("--name", default="w0", help=argparse.SUPPRESS)
    p.add_argument("--sources", type=Path, help=argparse.SUPPRESS)
    return p.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    if args.worker:
        return run_worker(args.worker, args.name, args.sources, args.analyzer, args.route_batch)
    if not args.database_url or not args.database_url.startswith("postgresql"):
        print("error: give --database-url postgresql+psycopg://… (or set TSUR_TEST_POSTGRES_URL)", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="tsur-bench-") as folder:
        shutil.copytree(ROOT / "models", Path(folder) / "models")  # a snapshot: retraining may go on meanwhile
        sources = write_world(Path(folder), args.items, args.seed)
        print(f"{args.items} items from {len(sample_texts())} sample texts (seed {args.seed}), "
              f"analyzer {args.analyzer}, route batch {args.route_batch}, "
              f"{os.cpu_count()} CPUs", flush=True)
        for workers in [int(w) for w in args.workers.split(",")]:
            print_result(run_once(args.database_url, sources, args.items, workers, args))
    return 0


if __name__ == "__main__":
    sys.exit(main())
