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

Two ways items arrive:
* all at once (default): every item is in the replay files when the clock starts, so "published" is the
  moment the clock starts; this measures throughput with a backlog;
* `--rate R`: the replay files start empty and the parent appends R items per second while the workers
  run, each with `published_at` = the moment it was written; this measures latency at a sustained load.

Printed per run: items/s; latency percentiles published → decision, published → ticket (items that
created or joined a ticket) and stored (items.first_seen_at) → decision; and the peak memory of each
worker (ru_maxrss, reported by the worker when it stops).
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
import threading
import time
import uuid
from datetime import datetime, timezone
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


def make_records(n_items: int, seed: int) -> list[tuple[int, dict]]:
    """(replay file index, raw_item record without published_at) for `n_items` items."""
    rng, bases = random.Random(seed), sample_texts()
    records = []
    for i in range(n_items):
        s = rng.randrange(SOURCES)
        records.append((s, {"type": "raw_item", "source": f"replay:{s}", "payload": {
            "platform": "vk", "source": f"vk:wall:-{500_000 + s}", "item_id": str(i),
            "text": make_text(rng, rng.choice(bases)), "url": f"https://vk.com/wall-{500_000 + s}_{i}"}}))
    return records


def replay_path(folder: Path, s: int) -> Path:
    return folder / f"replay_{s}.jsonl"


def write_records(folder: Path, records: list[tuple[int, dict]], published: datetime) -> None:
    """Append `records` to their replay files, each line whole in one write, published at `published`."""
    lines: dict[int, list[str]] = {}
    for s, record in records:
        record = {**record, "payload": {**record["payload"], "published_at": published.isoformat()}}
        lines.setdefault(s, []).append(json.dumps(record, ensure_ascii=False) + "\n")
    for s, chunk in lines.items():
        with open(replay_path(folder, s), "a", encoding="utf-8") as fh:
            fh.write("".join(chunk))


def reset_world(folder: Path, records: list[tuple[int, dict]], feeding: bool) -> None:
    """Empty replay files, then (unless they are fed during the run) every record at once."""
    for s in range(SOURCES):
        replay_path(folder, s).write_text("", encoding="utf-8")
    if not feeding:
        write_records(folder, records, datetime(2026, 11, 20, 7, tzinfo=timezone.utc))


def feed(folder: Path, records: list[tuple[int, dict]], rate: float, stop: threading.Event) -> None:
    """Append records at `rate` per second (ticks of 0.2 s), each published at the moment it is written."""
    t0, done = time.monotonic(), 0
    while done < len(records) and not stop.is_set():
        due = min(len(records), int((time.monotonic() - t0) * rate) + 1)
        if due > done:
            write_records(folder, records[done:due], datetime.now(timezone.utc))
            done = due
        stop.wait(0.2)


def write_sources(folder: Path) -> Path:
    """The sources file: 8 replay sources and the VK walls their items claim to come from."""
    blocks = []
    for s in range(SOURCES):
        blocks.append(f'[[source]]\ntype = "replay"\nhandle = "{replay_path(folder, s)}"\ninterval = 3600\n'
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


LATENCY_SQL = ("SELECT percentile_cont(ARRAY[0.5, 0.9, 0.99]) WITHIN GROUP (ORDER BY lat), max(lat) FROM "
               "(SELECT extract(epoch FROM d.created_at) - {start} AS lat "
               " FROM decisions d JOIN items i ON i.id = d.item_pk {where}) x")


def latency(sessions, published_at: float | None) -> dict:
    """Seconds to decisions.created_at — from publication (`published_at` epoch for a backlog, else each
    item's), to tickets only, and from items.first_seen_at: [p50, p90, p99, max] each."""
    import sqlalchemy as sa

    published = f"{published_at}" if published_at is not None else "extract(epoch FROM i.published_at)"
    queries = {"published": (published, ""), "ticket": (published, "WHERE d.ticket_id IS NOT NULL"),
               "stored": ("extract(epoch FROM i.first_seen_at)", "")}
    out = {}
    with sessions() as s:
        for name, (start, where) in queries.items():
            row = s.execute(sa.text(LATENCY_SQL.format(start=start, where=where))).one()
            out[name] = [*(row[0] or (0.0, 0.0, 0.0)), float(row[1] or 0.0)]
        out["outcomes"] = dict(s.execute(sa.text("SELECT outcome, count(*) FROM decisions GROUP BY outcome")).all())
    return out


def run_once(base_url: str, sources: Path, records: list, workers: int, args: argparse.Namespace) -> dict:
    """One measured run with `workers` processes in a fresh schema and fresh replay files."""
    keep = args.keep
    reset_world(sources.parent, records, feeding=bool(args.rate))
    url, schema = fresh_schema(base_url)
    try:
        return measure(url, sources, records, workers, args)
    finally:
        if not keep:
            drop_schema(base_url, schema)


def measure(url: str, sources: Path, records: list, workers: int, args: argparse.Namespace) -> dict:
    """Start the workers, wait until every item has a decision, collect the figures."""
    analyzer, timeout, n_items = args.analyzer, args.timeout, len(records)
    stop_feeding = threading.Event()
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
        t0, t0_wall, marks, last = time.monotonic(), time.time(), {}, {}
        if args.rate:
            threading.Thread(target=feed, args=(sources.parent, records, args.rate, stop_feeding), daemon=True).start()
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
        stop_feeding.set()
        for p in procs:
            p.send_signal(signal.SIGTERM)
        reports = []
        for p in procs:
            out, _ = p.communicate(timeout=120)
            reports += [json.loads(line) for line in out.splitlines() if line.startswith("{")]
    done = counts(sessions)["decided"]  # all of them, unless the run timed out
    result = {"workers": workers, "items": n_items, "decided": done, "seconds": round(elapsed, 1),
              "items_per_s": round(done / elapsed, 1), "stored_at_s": marks.get("stored"),
              "analysed_at_s": marks.get("analysed"), "rate": args.rate,
              **latency(sessions, None if args.rate else t0_wall),
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
    arrival = f"arriving at {r['rate']}/s" if r["rate"] else "all published when the clock starts"
    for name, title in (("published", f"published -> decision ({arrival})"), ("ticket", "published -> ticket"),
                        ("stored", "stored (first_seen_at) -> decision")):
        p50, p90, p99, top = r[name]
        print(f"  latency {title}: p50 {p50:.1f}s  p90 {p90:.1f}s  p99 {p99:.1f}s  max {top:.1f}s")
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
    p.add_argument("--rate", type=float, default=0.0,
                   help="items per second appended while the workers run (default 0: all at once)")
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
        sources, records = write_sources(Path(folder)), make_records(args.items, args.seed)
        print(f"{args.items} items from {len(sample_texts())} sample texts (seed {args.seed}), "
              f"{f'arriving at {args.rate}/s' if args.rate else 'all at once'}, "
              f"analyzer {args.analyzer}, route batch {args.route_batch}, "
              f"{os.cpu_count()} CPUs", flush=True)
        for workers in [int(w) for w in args.workers.split(",")]:
            print_result(run_once(args.database_url, sources, records, workers, args))
    return 0


if __name__ == "__main__":
    sys.exit(main())
