"""Analyse stage: each item revision analysed once, re-runs are no-ops, edits are re-analysed."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

import pytest
import sqlalchemy as sa

from storage.db import make_engine, make_sessionmaker, upgrade
from storage.items import save_page
from storage.tables import AnalysisRow, Item, Source
from tests.stages.fakes import EchoAnalyzer
from tsur.records import AnalysisInput, Page, RawItem
from tsur.stages.analyse import analyse_pending

ROOT = Path(__file__).resolve().parents[2]
T0 = datetime(2026, 11, 20, tzinfo=timezone.utc)


def seed(sessions, n: int, text: str = "нет воды") -> None:
    with sessions.begin() as s:
        src = Source(key="vk:wall:-1", platform="vk", handle="-1", home_municipality="городской округ Ялта")
        s.add(src)
        s.flush()
        for lo in range(0, n, 1000):
            items = tuple(RawItem("vk", "vk:wall:-1", str(i), T0, f"{text} {i}") for i in range(lo, min(n, lo + 1000)))
            save_page(s, src, Page(items, None))


def test_analyse_once_and_rerun(sessions):
    seed(sessions, 30)
    assert analyse_pending(sessions, EchoAnalyzer(), worker="w", batch=7) == 30
    assert analyse_pending(sessions, EchoAnalyzer(), worker="w", batch=7) == 0
    with sessions() as s:
        rows = list(s.scalars(sa.select(AnalysisRow)))
        assert len(rows) == 30 and {r.municipality for r in rows} == {"городской округ Ялта"}
        assert set(s.scalars(sa.select(Item.stage))) == {"route"}


def test_edited_item_reanalysed(sessions):
    seed(sessions, 2)
    analyse_pending(sessions, EchoAnalyzer(), worker="w")
    with sessions.begin() as s:
        src = s.scalar(sa.select(Source))
        save_page(s, src, Page((RawItem("vk", "vk:wall:-1", "0", T0, "спасибо, всё починили"),), None))
    assert analyse_pending(sessions, EchoAnalyzer(), worker="w") == 1
    with sessions() as s:
        revs = s.execute(sa.select(AnalysisRow.revision, AnalysisRow.is_complaint)
                         .where(AnalysisRow.item_pk == 1).order_by(AnalysisRow.revision)).all()
        assert [tuple(r) for r in revs] == [(1, True), (2, False)]


def test_stop_flag_finishes_batch_in_hand(sessions):
    import threading

    seed(sessions, 20)
    stop = threading.Event()

    class StopAfterFirst(EchoAnalyzer):
        def analyze(self, inputs):
            stop.set()
            return super().analyze(inputs)

    assert analyse_pending(sessions, StopAfterFirst(), worker="w", batch=5, stop=stop) == 5


@pytest.mark.postgres
def test_four_workers_exactly_once_with_sigkill(pg_url):
    """4 processes share PostgreSQL; one is SIGKILLed mid-batch; every item is analysed exactly once."""
    engine = make_engine(pg_url)
    upgrade(engine)
    sessions = make_sessionmaker(engine)
    n_items = 3000
    seed(sessions, n_items)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    procs = [subprocess.Popen([sys.executable, "-m", "tests.stages.worker_main", pg_url, f"w{i}", "0.002"],
                              cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for i in range(4)]
    for p in procs:
        assert p.stdout.readline().strip() == "ready"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:  # kill w0 once it has committed something and is mid-batch
        with sessions() as s:
            done_w0 = s.scalar(sa.select(sa.func.count()).select_from(AnalysisRow).where(AnalysisRow.worker == "w0"))
        if done_w0 >= 50:
            break
        time.sleep(0.05)
    time.sleep(0.03)
    procs[0].send_signal(signal.SIGKILL)
    outputs = [p.communicate(timeout=120) for p in procs]
    assert procs[0].returncode == -signal.SIGKILL
    for p, (out, err) in zip(procs[1:], outputs[1:]):
        assert p.returncode == 0, err[-2000:]
    with sessions() as s:
        per_item = s.execute(sa.select(AnalysisRow.item_pk, sa.func.count()).group_by(AnalysisRow.item_pk)).all()
        assert len(per_item) == n_items and {c for _, c in per_item} == {1}
        assert set(s.scalars(sa.select(Item.stage))) == {"route"}
        by_worker = dict(s.execute(sa.select(AnalysisRow.worker, sa.func.count()).group_by(AnalysisRow.worker)).all())
    assert sum(by_worker.values()) == n_items and by_worker["w0"] % 50 == 0 and len(by_worker) == 4
    survivors_done = sum(int(out.split()[-1]) for out, _ in outputs[1:])
    assert survivors_done + by_worker["w0"] == n_items
    engine.dispose()


class PlaceAnalyzer(EchoAnalyzer):
    """Finds «Ялта» only; everything else names no place."""

    def analyze(self, inputs):
        from dataclasses import replace

        return [replace(a, municipality="городской округ Ялта", geo_evidence="в Ялте", geo_confidence=0.9,
                        reasons=("geo: «в Ялте»",)) if "Ялт" in x.text else replace(a, municipality=None)
                for a, x in zip(super().analyze(inputs), inputs)]


def test_comment_without_place_inherits_the_posts_place(sessions):
    with sessions.begin() as s:
        src = Source(key="vk:wall:-1", platform="vk", handle="-1")
        s.add(src)
        s.flush()
        save_page(s, src, Page((RawItem("vk", "vk:wall:-1", "10", T0, "В Ялте нет воды"),
                                RawItem("vk", "vk:wall:-1", "10_1", T0, "и у нас нет", kind="comment", parent_id="10"),
                                RawItem("vk", "vk:wall:-1", "11", T0, "нет света"),
                                RawItem("vk", "vk:wall:-1", "11_1", T0, "тоже нет", kind="comment", parent_id="11")),
                               None))
    analyse_pending(sessions, PlaceAnalyzer(), worker="w", batch=2)  # parent and comment in one batch or not
    with sessions.begin() as s:  # a later comment on an already analysed post
        save_page(s, s.scalar(sa.select(Source)), Page((RawItem("vk", "vk:wall:-1", "10_2", T0, "третий день",
                                                                kind="comment", parent_id="10"),), None))
    analyse_pending(sessions, PlaceAnalyzer(), worker="w")
    with sessions() as s:
        rows = dict(s.execute(sa.select(Item.item_id, AnalysisRow).join(AnalysisRow, AnalysisRow.item_pk == Item.id)).all())
    for comment in ("10_1", "10_2"):
        assert rows[comment].municipality == "городской округ Ялта"
        assert rows[comment].geo_confidence == pytest.approx(0.81) and rows[comment].geo_evidence is None
        assert "place of the post commented on: «в Ялте»" in rows[comment].reasons[-1]
    assert rows["11_1"].municipality is None  # the post named no place either


@pytest.fixture(scope="module")
def real_analyzer():
    from nlp.analyzer import load_analyzer

    return load_analyzer()


def test_unknown_home_municipality_in_the_database_does_not_poison_a_batch(sessions, real_analyzer, caplog):
    """A source row with a misspelt home (stored before the sources file was checked): its items are analysed
    with the hint ignored and one warning, instead of every batch failing on every tick."""
    import uuid

    typo = f"городской округ Ялта-{uuid.uuid4().hex[:6]}"  # warned once per process: a new one per run
    with sessions.begin() as s:
        src = Source(key="vk:wall:-7", platform="vk", handle="-7", home_municipality=typo)
        s.add(src)
        s.flush()
        save_page(s, src, Page(tuple(RawItem("vk", "vk:wall:-7", str(i), T0, text) for i, text in enumerate(
            ["В Ялте нет воды третий день", "Нет воды третий день, помогите", "Яма на дороге в Ялте"])), None))
    with caplog.at_level("WARNING", logger="nlp.geo"):
        analyse_pending(sessions, real_analyzer, worker="w", batch=10)
        analyse_pending(sessions, real_analyzer, worker="w", batch=10)
    with sessions() as s:
        assert set(s.scalars(sa.select(Item.stage))) == {"route"}
        places = dict(s.execute(sa.select(Item.item_id, AnalysisRow.municipality)
                                .join(AnalysisRow, AnalysisRow.item_pk == Item.id)).all())
    assert places == {"0": "городской округ Ялта", "1": None, "2": "городской округ Ялта"}
    assert len([r for r in caplog.records if typo in r.getMessage()]) == 1


class RecordingAnalyzer(EchoAnalyzer):
    """Keeps the inputs it was given."""

    def __init__(self):
        super().__init__()
        self.inputs = []

    def analyze(self, inputs):
        self.inputs += list(inputs)
        return super().analyze(inputs)


def test_inputs_carry_the_items_kind_and_whether_the_source_wrote_it(sessions):
    """A госпаблик's own wall post, a visitor's post, a comment, a site's article and a replayed item whose raw
    payload cannot tell: kind and by_source reach the analyzer with the source's kind."""
    with sessions.begin() as s:
        wall = Source(key="vk:wall:-100001", platform="vk", handle="-100001", kind="госпаблик")
        site = Source(key="web:https://simf.rk.gov.ru/news", platform="web", handle="https://simf.rk.gov.ru/news",
                      kind="web")
        replay = Source(key="replay:old.jsonl", platform="replay", handle="old.jsonl")
        s.add_all([wall, site, replay])
        s.flush()
        own = {"id": 1, "owner_id": -100001, "from_id": -100001, "date": 1794807600, "text": "Уведомляем"}
        save_page(s, wall, Page((
            RawItem("vk", wall.key, "1", T0, "Уведомляем об отключении воды", raw=own),
            RawItem("vk", wall.key, "2", T0, "нет воды", raw={**own, "id": 2, "from_id": "vk:0123456789abcdef"}),
            RawItem("vk", wall.key, "1_3", T0, "и у нас нет", kind="comment", parent_id="1",
                    raw={"id": 3, "post_id": 1, "owner_id": -100001, "from_id": -100001}),
        ), None))
        save_page(s, site, Page((RawItem("web", site.key, "n1", T0, "Плановые работы", kind="article",
                                         raw={"url": "https://simf.rk.gov.ru/news/1"}),), None))
        save_page(s, replay, Page((RawItem("vk", replay.key, "9", T0, "нет света"),), None))
    analyzer = RecordingAnalyzer()
    analyse_pending(sessions, analyzer, worker="w")
    with sessions() as s:
        ids = dict(s.execute(sa.select(Item.id, Item.item_id)).all())
    seen = {ids[x.item_pk]: (x.kind, x.by_source, x.source_kind) for x in analyzer.inputs}
    assert seen == {"1": ("post", True, "госпаблик"), "2": ("post", False, "госпаблик"),
                    "1_3": ("comment", False, "госпаблик"), "n1": ("article", True, "web"),
                    "9": ("post", None, "community")}


def test_genre_is_stored_with_each_analysis(sessions):
    with sessions.begin() as s:
        src = Source(key="vk:wall:-1", platform="vk", handle="-1")
        s.add(src)
        s.flush()
        save_page(s, src, Page(tuple(RawItem("vk", src.key, str(n), T0, text) for n, text in enumerate(
            ["нет воды третий день", "спасибо коммунальщикам", "Уведомляем: завтра воды нет с 9 до 17"])), None))
    analyse_pending(sessions, EchoAnalyzer(), worker="w")
    with sessions() as s:
        rows = {i: (g, c) for i, g, c in s.execute(sa.select(Item.item_id, AnalysisRow.genre, AnalysisRow.is_complaint)
                                                   .join(AnalysisRow, AnalysisRow.item_pk == Item.id))}
    assert rows == {"0": ("complaint", True), "1": ("other", False), "2": ("notice", False)}


@pytest.mark.parametrize("genre,is_complaint,error", [
    ("rant", False, "genre 'rant' is not one of complaint, notice, other"),
    ("notice", True, "is_complaint=True but genre 'notice'"),
])
def test_an_analysis_with_a_bad_genre_parks_its_item(sessions, genre, is_complaint, error):
    from dataclasses import replace

    class Bad(EchoAnalyzer):
        def analyze(self, inputs):
            return [replace(a, genre=genre, is_complaint=is_complaint) if "плохой" in x.text else a
                    for a, x in zip(super().analyze(inputs), inputs)]

    with sessions.begin() as s:
        src = Source(key="vk:wall:-1", platform="vk", handle="-1")
        s.add(src)
        s.flush()
        save_page(s, src, Page((RawItem("vk", src.key, "1", T0, "нет воды"),
                                RawItem("vk", src.key, "2", T0, "плохой")), None))
    analyse_pending(sessions, Bad(), worker="w")
    with sessions() as s:
        stages = dict(s.execute(sa.select(Item.item_id, Item.stage)).all())
        parked = s.scalar(sa.select(Item.error).where(Item.item_id == "2"))
    assert stages == {"1": "route", "2": "failed"} and error in parked


def test_an_analysis_read_back_from_its_row_is_the_same_analysis(sessions):
    """Every field survives the row, genre included; an old row without a genre reads back as genre None."""
    from tsur.records import Analysis
    from tsur.stages.analyse import analysis_of, analysis_row

    seed(sessions, 1)
    full = Analysis(item_pk=1, model_version="m", is_complaint=False, complaint_proba=0.12, topic_group="ЖКХ",
                    topic_proba=0.8, topic="Водоснабжение", municipality="городской округ Ялта", settlement="Ялта",
                    geo_evidence="в Ялте", geo_confidence=0.9, importance="high",
                    reasons=("notice 0.81", "geo: «в Ялте»"), genre="notice")
    with sessions.begin() as s:
        s.add(analysis_row(full, s.get(Item, 1), "w"))
    with sessions() as s:
        row = s.scalar(sa.select(AnalysisRow))
        assert analysis_of(row) == full
        row.genre = None
        assert analysis_of(row).genre is None


def test_a_comment_inherits_the_place_of_a_notice_and_the_parent_keeps_its_genre(sessions):
    """A comment under an administration's notice names no place: it takes the notice's place; the parent analysis
    read back from its row is still a notice."""
    from tsur.stages.analyse import _parent_places

    with sessions.begin() as s:
        src = Source(key="vk:wall:-1", platform="vk", handle="-1")
        s.add(src)
        s.flush()
        save_page(s, src, Page((RawItem("vk", src.key, "10", T0, "Уведомляем: в Ялте не будет воды"),), None))
    analyse_pending(sessions, PlaceAnalyzer(), worker="w")
    with sessions.begin() as s:
        save_page(s, s.scalar(sa.select(Source)), Page((RawItem("vk", src.key, "10_1", T0, "опять нет",
                                                                kind="comment", parent_id="10"),), None))
    with sessions() as s:
        comment = s.scalar(sa.select(Item).where(Item.item_id == "10_1"))
        [result] = PlaceAnalyzer().analyze([AnalysisInput(comment.id, comment.text)])
        parent = _parent_places(s, [comment], {comment.id: result})[comment.id]
    assert parent.genre == "notice" and parent.municipality == "городской округ Ялта"
    analyse_pending(sessions, PlaceAnalyzer(), worker="w")
    with sessions() as s:
        row = s.scalar(sa.select(AnalysisRow).join(Item, Item.id == AnalysisRow.item_pk).where(Item.item_id == "10_1"))
    assert (row.genre, row.municipality) == ("complaint", "городской округ Ялта")
