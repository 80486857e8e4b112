"""Throughput of routing: decisions per second with incident matching, and SLA due-time computation.

Example: python benchmarks/bench_routing.py --items 3000 [--url postgresql+psycopg://…]
"""
from __future__ import annotations

import argparse
import hashlib
import random
import tempfile
import time
from datetime import datetime, timedelta, timezone

from routing.policy import load_policy
from routing.sla import due_at
from routing.stage import route_items
from storage.db import make_engine, make_sessionmaker, upgrade
from storage.tables import AnalysisRow, Item

WORDS = ("вода труба подъезд двор дорога яма свет газ мусор контейнер школа больница автобус остановка "
         "крыша подвал лифт отопление тротуар фонарь парк детская площадка улица дом неделю месяц опять").split()
GROUPS = ("ЖКХ", "Благоустройство", "Дороги", "Общественный транспорт", "Здравоохранение", "Энергетика", None)


def make_pairs(session, rng: random.Random, n: int, start: int, now: datetime, municipalities) -> list:
    """n synthetic analysed items (flushed)."""
    pairs = []
    for i in range(start, start + n):
        text = " ".join(rng.choices(WORDS, k=rng.randint(6, 25)))
        item = Item(platform="vk", source=f"vk:wall:-{rng.randint(1, 50)}", item_id=str(i), published_at=now,
                    text=text, text_hash=hashlib.sha256(text.encode()).hexdigest(), stage="route")
        session.add(item)
        pairs.append(item)
    session.flush()
    out = []
    for item in pairs:
        analysis = AnalysisRow(item_pk=item.id, revision=1, model_version="bench", is_complaint=rng.random() > 0.3,
                               complaint_proba=rng.random(), topic_group=rng.choice(GROUPS), topic_proba=rng.random(),
                               municipality=rng.choice(municipalities), geo_confidence=rng.random(),
                               importance=rng.choice(("normal", "high")))
        session.add(analysis)
        out.append((item, analysis))
    session.flush()
    return out


def bench_route(url: str, items: int, batch: int) -> None:
    """Route `items` items in batches; print decisions/s and the outcome mix."""
    policy, rng = load_policy(), random.Random(7)
    engine = make_engine(url)
    upgrade(engine)
    sessions = make_sessionmaker(engine)
    now, done, spent, outcomes = datetime(2026, 11, 23, 7, tzinfo=timezone.utc), 0, 0.0, {}
    while done < items:
        with sessions() as s, s.begin():
            pairs = make_pairs(s, rng, batch, done, now, policy.municipalities)
            started = time.perf_counter()
            for d in route_items(s, pairs, now=now, policy=policy):
                outcomes[d.outcome] = outcomes.get(d.outcome, 0) + 1
            spent += time.perf_counter() - started
        done += batch
        now += timedelta(minutes=5)
    print(f"route_items: {done} items in {spent:.2f} s = {done / spent:,.0f} items/s (batch {batch}); {outcomes}")


def bench_due(n: int) -> None:
    """due_at calls per second over a year of start times."""
    policy = load_policy()
    start = datetime(2026, 1, 1, tzinfo=timezone.utc)
    began = time.perf_counter()
    for i in range(n):
        due_at(start + timedelta(minutes=37 * i), "normal" if i % 3 else "high", policy)
    print(f"due_at: {n / (time.perf_counter() - began):,.0f} calls/s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=3000)
    parser.add_argument("--batch", type=int, default=200)
    parser.add_argument("--url", default=None, help="database URL (default: a temporary SQLite file)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        bench_route(args.url or f"sqlite:///{tmp}/bench.db", args.items, args.batch)
    bench_due(20000)


if __name__ == "__main__":
    main()
