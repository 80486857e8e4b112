"""CLI test helpers: invoke `tsur` on a temporary database, seed items/analyses and route them."""
from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from storage.db import make_engine, make_sessionmaker, upgrade
from storage.tables import AnalysisRow, Item, Source

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=timezone.utc)
ROAD_TEXT = "На улице Кирова в Ялте огромная яма на дороге, машины бьют колёса, сделайте ремонт"


class Cli:
    """`tsur` bound to one database URL and actor."""

    def __init__(self, url: str, actor: str = "tester", env: dict[str, str] | None = None):
        self.url, self.actor, self.runner = url, actor, CliRunner()
        self.env = {"COLUMNS": "250", **(env or {})}

    def __call__(self, *args: str, ok: bool = True):
        from tsur.cli import app

        result = self.runner.invoke(app, ["--database-url", self.url, "--actor", self.actor, *args],
                                    env=self.env)
        if ok and result.exit_code != 0:
            raise AssertionError(f"tsur {' '.join(args)} → {result.exit_code}\n{result.output}\n{result.exception!r}")
        return result

    def json(self, *args: str):
        return json.loads(self("--json", *args).stdout)


@pytest.fixture
def db(db_url):
    """A migrated database on SQLite and PostgreSQL: (url, sessionmaker)."""
    engine = make_engine(db_url)
    upgrade(engine)
    yield db_url, make_sessionmaker(engine)
    engine.dispose()


@pytest.fixture
def lite(sqlite_url):
    """A migrated SQLite database only: (url, sessionmaker)."""
    engine = make_engine(sqlite_url)
    upgrade(engine)
    yield sqlite_url, make_sessionmaker(engine)
    engine.dispose()


def seed(sessions, text: str, *, source: str = "vk:wall:-1", item_id: str | None = None,
         published_at: datetime | None = None, complaint_proba: float = 0.95, topic_group: str | None = "Дороги",
         topic_proba: float = 0.9, municipality: str | None = "городской округ Ялта", settlement: str | None = None,
         geo_confidence: float = 0.9, importance: str = "normal", genre: str | None = None) -> int:
    """One item with an analysis, waiting for routing; returns the item pk (genre None: analysed before genres)."""
    with sessions.begin() as s:
        if s.scalar(sa.select(Source.id).where(Source.key == source)) is None:
            s.add(Source(key=source, platform=source.split(":")[0], handle=source.split(":")[-1]))
        n = s.scalar(sa.select(sa.func.count()).select_from(Item))
        item = Item(platform=source.split(":")[0], source=source, item_id=item_id or f"i{n + 1}",
                    published_at=published_at or NOW - timedelta(hours=n + 1), text=text, text_hash=f"h{n}",
                    url=f"https://vk.com/wall-1_{n + 1}", stage="route")
        s.add(item)
        s.flush()
        s.add(AnalysisRow(item_pk=item.id, revision=1, model_version="test", is_complaint=complaint_proba >= 0.5,
                          complaint_proba=complaint_proba, topic_group=topic_group, topic=None,
                          topic_proba=topic_proba, municipality=municipality, settlement=settlement,
                          geo_evidence=municipality, geo_confidence=geo_confidence, importance=importance,
                          genre=genre))
        return item.id


def route(sessions, now: datetime = NOW):
    """Route every analysed item with the repo's routing policy."""
    from routing.stage import default_policy, route_items
    from tsur.stages.route import _latest_analyses

    with sessions.begin() as s:
        items = list(s.scalars(sa.select(Item).where(Item.stage == "route").order_by(Item.id)))
        latest = _latest_analyses(s, items)
        return route_items(s, [(i, latest[i.id]) for i in items], now=now, policy=default_policy())
