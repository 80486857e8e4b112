"""Route and analyse stages: an edited item in a ticket routes on; one failing item is parked, the rest flow on."""
from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timezone

import pytest
import sqlalchemy as sa

from routing.policy import load_policy
from storage.items import save_page
from storage.tables import Decision, Item, Run, Source, TicketItem
from tests.stages.fakes import EchoAnalyzer
from tsur.records import Page, RawItem
from tsur.stages.analyse import analyse_pending
from tsur.stages.failures import failed_items, retry_failed
from tsur.stages.route import route_pending

T0 = datetime(2026, 11, 20, 7, 0, tzinfo=timezone.utc)
TEXTS = ["Третий день нет воды на улице Кирова", "нет света во дворе на Садовой", "boom: нет газа",
         "нет отопления в школе номер 3"]


class PlaceAnalyzer(EchoAnalyzer):
    """EchoAnalyzer that is sure of the place (the source's home municipality): complaints become tickets."""

    def analyze(self, inputs):
        return [replace(a, geo_confidence=0.9, geo_evidence="Ялта") for a in super().analyze(inputs)]


class BoomAnalyzer(PlaceAnalyzer):
    """Fails every batch that holds a text starting with 'boom'."""

    def analyze(self, inputs):
        if any(x.text.startswith("boom") for x in inputs):
            raise RuntimeError("tokenizer crashed on this text")
        return super().analyze(inputs)


def store(sessions, *texts: str, start: int = 0) -> None:
    """Store items 'start', 'start+1', … of one wall (an existing id with a new text is an edit)."""
    with sessions.begin() as s:
        src = s.scalar(sa.select(Source))
        if src is None:
            src = Source(key="vk:wall:-1", platform="vk", handle="-1", home_municipality="городской округ Ялта")
            s.add(src)
            s.flush()
        items = tuple(RawItem("vk", "vk:wall:-1", str(start + n), T0, text) for n, text in enumerate(texts))
        save_page(s, src, Page(items, None))


def stages(sessions) -> dict[str, str]:
    with sessions() as s:
        return dict(s.execute(sa.select(Item.item_id, Item.stage)).all())


def run_counts(sessions, stage: str) -> dict:
    with sessions() as s:
        return s.scalar(sa.select(Run.counts).where(Run.stage == stage).order_by(Run.id.desc()).limit(1))


def test_edited_item_in_a_ticket_routes_on(sessions):
    """The audit repro: an edit of an item that is in a ticket no longer fails every later route batch."""
    policy = load_policy()
    store(sessions, TEXTS[0])
    analyse_pending(sessions, PlaceAnalyzer(), worker="w")
    assert route_pending(sessions, policy, worker="w")["create"] == 1
    store(sessions, TEXTS[0] + ". UPD: и света тоже нет")
    store(sessions, TEXTS[1], start=1)
    analyse_pending(sessions, PlaceAnalyzer(), worker="w")
    counts = route_pending(sessions, policy, worker="w")
    assert (counts["attach"], counts["create"], counts["failed"]) == (1, 1, 0)  # the edit stays; the next routes
    assert set(stages(sessions).values()) == {"done"}
    with sessions() as s:
        assert s.scalar(sa.select(sa.func.count()).select_from(TicketItem)) == 2
        assert s.scalars(sa.select(Decision.rule).order_by(Decision.id)).all()[1] == "incident:kept"


def test_route_item_that_fails_alone_is_parked_and_the_rest_flow_on(sessions, monkeypatch):
    import routing.stage

    real = routing.stage.route_one

    def route_one(session, item, analysis, now, policy, known=None):
        if item.text.startswith("boom"):
            raise ValueError("broken rule data for this item")
        return real(session, item, analysis, now, policy, known)

    monkeypatch.setattr(routing.stage, "route_one", route_one)
    store(sessions, *TEXTS)
    analyse_pending(sessions, PlaceAnalyzer(), worker="w")
    counts = route_pending(sessions, load_policy(), worker="w", batch=10)
    assert counts["failed"] == 1 and counts["create"] + counts["attach"] == 3
    assert stages(sessions) == {"0": "done", "1": "done", "2": "failed", "3": "done"}
    assert run_counts(sessions, "route")["failed"] == 1
    with sessions() as s:
        [parked] = failed_items(s)
        assert parked.error == "route: ValueError: broken rule data for this item"
    assert route_pending(sessions, load_policy(), worker="w") == {}  # parked: no longer retried every tick
    monkeypatch.setattr(routing.stage, "route_one", real)
    with sessions.begin() as s:
        assert retry_failed(s) == 1
    assert route_pending(sessions, load_policy(), worker="w")["failed"] == 0
    assert set(stages(sessions).values()) == {"done"}


def test_analyse_item_that_fails_alone_is_parked_and_the_rest_flow_on(sessions):
    store(sessions, *TEXTS)
    assert analyse_pending(sessions, BoomAnalyzer(), worker="w", batch=10) == 3
    assert stages(sessions) == {"0": "route", "1": "route", "2": "failed", "3": "route"}
    assert run_counts(sessions, "analyse")["failed"] == 1
    with sessions() as s:
        [parked] = failed_items(s)
        assert parked.error == "analyse: RuntimeError: tokenizer crashed on this text"
    store(sessions, "нет газа, исправлено", start=2)  # an edit gives a parked item a new chance
    assert analyse_pending(sessions, BoomAnalyzer(), worker="w") == 1
    with sessions() as s:
        assert s.scalar(sa.select(Item.error).where(Item.item_id == "2")) is None


def test_a_database_error_is_not_blamed_on_an_item(sessions):
    class Down(EchoAnalyzer):
        def analyze(self, inputs):
            raise sa.exc.OperationalError("SELECT 1", {}, Exception("server closed the connection"))

    store(sessions, *TEXTS)
    with pytest.raises(sa.exc.OperationalError):
        analyse_pending(sessions, Down(), worker="w")
    assert set(stages(sessions).values()) == {"analyse"}
