"""Fixtures for routing tests: the repo policy, a policy with delivery channels, item factories."""
from __future__ import annotations

import hashlib
import itertools
import shutil
from datetime import datetime, timezone
from pathlib import Path

import pytest

from routing.policy import CONFIG, load_policy
from storage.tables import AnalysisRow, Item

NOW = datetime(2026, 11, 23, 7, 0, tzinfo=timezone.utc)  # Monday 10:00 in Simferopol
POLICY_FILES = ("routing.toml", "routing_rules.csv", "agencies.csv", "routing_topics.csv", "routing_municipalities.csv")
_ids = itertools.count(1)


@pytest.fixture(scope="session")
def policy():
    return load_policy()


def config_copy(target: Path, delivery: str = "") -> Path:
    """A config dir with the repo's routing files and the given delivery.toml text."""
    target.mkdir(parents=True, exist_ok=True)
    for name in POLICY_FILES:
        shutil.copy(CONFIG / name, target / name)
    (target / "delivery.toml").write_text(delivery, encoding="utf-8")
    return target


def channel_toml(agency: str, webhook: str | None = None, email: str | None = None, **defaults) -> str:
    """delivery.toml text with one channel."""
    lines = ["[defaults]"] + [f"{k} = {v!r}".replace("'", '"') if isinstance(v, str) else f"{k} = {str(v).lower()}"
                              for k, v in defaults.items()]
    lines += ["[[channel]]", f'agency = "{agency}"']
    lines += [f'webhook = "{webhook}"'] if webhook else []
    lines += [f'email = "{email}"'] if email else []
    return "\n".join(lines) + "\n"


def add_pair(session, text: str = "Нет воды в доме на улице Ленина уже третий день", *, source: str = "vk:wall:-1",
             platform: str = "vk", parent_id: str | None = None, kind: str = "post", is_complaint: bool = True,
             complaint_proba: float = 0.95, topic_group: str | None = "ЖКХ", topic: str | None = None,
             topic_proba: float = 0.9, municipality: str | None = "городской округ Керчь", settlement: str | None = None,
             geo_confidence: float = 0.9, importance: str = "normal", item_id: str | None = None,
             reasons: tuple = (), published_at: datetime = NOW, genre: str | None = None) -> tuple[Item, AnalysisRow]:
    """Store one item and its analysis (flushed, not committed); genre None is an analysis made before genres."""
    n = next(_ids)
    item = Item(platform=platform, source=source, item_id=item_id or f"i{n}", parent_id=parent_id, kind=kind,
                published_at=published_at, text=text, text_hash=hashlib.sha256(text.encode()).hexdigest(),
                stage="route")
    session.add(item)
    session.flush()
    analysis = AnalysisRow(item_pk=item.id, revision=1, model_version="test", is_complaint=is_complaint,
                           complaint_proba=complaint_proba, topic_group=topic_group, topic=topic,
                           topic_proba=topic_proba, municipality=municipality, settlement=settlement,
                           geo_confidence=geo_confidence, importance=importance, reasons=list(reasons), genre=genre)
    session.add(analysis)
    session.flush()
    return item, analysis
