"""Benchmark (not a test): how long the review queue, ticket list and source health take on a filled SQLite DB.

Run: .venv/bin/python tests/cli/bench_queue.py [N]   (prints seconds per call)
"""
from __future__ import annotations

import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from storage.db import make_engine, make_sessionmaker, upgrade  # noqa: E402
from storage.tables import AnalysisRow, Decision, Item, Source, Ticket, TicketItem, utcnow  # noqa: E402
from tsur import queries  # noqa: E402


def fill(sessions, n: int) -> None:
    """n items: half under review, half in tickets (one ticket per 3 items)."""
    now = utcnow()
    with sessions.begin() as s:
        s.add(Source(key="vk:wall:-1", platform="vk", handle="-1"))
        s.add_all(Item(platform="vk", source="vk:wall:-1", item_id=str(i), published_at=now - timedelta(minutes=i),
                       text=f"текст обращения номер {i} про яму и воду", text_hash=str(i), stage="done")
                  for i in range(n))
        s.flush()
        s.add_all(AnalysisRow(item_pk=i + 1, revision=1, model_version="b", is_complaint=True, complaint_proba=0.6,
                              topic_group="ЖКХ" if i % 2 else "Дороги", topic_proba=0.5,
                              municipality="городской округ Ялта" if i % 3 else None) for i in range(n))
        s.add_all(Ticket(agency="Администрация", topic_group="ЖКХ", municipality="городской округ Ялта",
                         due_at=now) for _ in range(n // 6))
        s.flush()
        s.add_all(Decision(item_pk=i + 1, analysis_id=i + 1, outcome="review" if i % 2 == 0 else "create",
                           rule="r", reason="no place found", reviewed=False) for i in range(n))
        s.add_all(TicketItem(item_pk=i + 1, ticket_id=i // 6 + 1, via="create") for i in range(1, n, 2)
                  if i // 6 + 1 <= n // 6)


def timed(label: str, fn, repeat: int = 3) -> None:
    best = min(_once(fn) for _ in range(repeat))
    print(f"{label}: {best * 1000:.0f} ms")


def _once(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def main(n: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        engine = make_engine(f"sqlite:///{tmp}/bench.db")
        upgrade(engine)
        sessions = make_sessionmaker(engine)
        fill(sessions, n)
        print(f"{n} items, {n // 2} under review, {n // 6} tickets (SQLite)")
        with sessions() as s:
            timed("review_queue, all", lambda: queries.review_queue(s))
            timed("review_queue, --topic жкх --municipality ялта --limit 50",
                  lambda: queries.review_queue(s, topic="жкх", municipality="ялта", limit=50))
            timed("list_tickets --open", lambda: queries.list_tickets(s, open_only=True))
            timed("overdue", lambda: queries.list_tickets(s, overdue_at=utcnow()))
            timed("stats by agency", lambda: queries.stats_by(s, "agency"))
            timed("source_health", lambda: queries.source_health(s))
        engine.dispose()


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 20000)
