"""Analyse stage: claim items waiting for analysis, run the NLP over the batch, store analyses."""
from __future__ import annotations

import logging
import threading
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Protocol

import sqlalchemy as sa
from sqlalchemy.orm import Session, sessionmaker

from collectors.authorship import written_by_source
from storage.items import claim_items
from storage.runs import record_run
from storage.tables import AnalysisRow, Item, Source
from tsur.records import GENRES, Analysis, AnalysisInput
from tsur.stages.failures import run_batch

log = logging.getLogger(__name__)


class Analyzer(Protocol):
    version: str

    def analyze(self, inputs: Sequence[AnalysisInput]) -> list[Analysis]:
        ...


def _contexts(session: Session, items: list[Item]) -> dict[str, tuple[str | None, str | None]]:
    keys = {i.source for i in items}
    rows = session.execute(sa.select(Source.key, Source.home_municipality, Source.kind).where(Source.key.in_(keys)))
    return {r.key: (r.home_municipality, r.kind) for r in rows}


def analysis_input(item: Item, home_municipality: str | None, source_kind: str | None) -> AnalysisInput:
    """What the NLP reads about one stored item: its text, kind, whether its source wrote it, the source's context."""
    return AnalysisInput(item.id, item.text or "", home_municipality, source_kind, kind=item.kind,
                         by_source=written_by_source(item.platform, item.kind, item.source, item.raw))


def check_genre(result: Analysis) -> None:
    """A genre is one of GENRES (or None from an analyzer without genres) and agrees with is_complaint."""
    if result.genre is None:
        return
    if result.genre not in GENRES:
        raise ValueError(f"item {result.item_pk}: genre {result.genre!r} is not one of {', '.join(GENRES)}")
    if bool(result.is_complaint) != (result.genre == "complaint"):
        raise ValueError(f"item {result.item_pk}: is_complaint={result.is_complaint} but genre {result.genre!r}")


def analysis_row(result: Analysis, item: Item, worker: str) -> AnalysisRow:
    """The table row for one analysis of one item revision (ValueError for a genre that cannot be stored)."""
    check_genre(result)
    return AnalysisRow(
        item_pk=item.id, revision=item.revision, model_version=result.model_version,
        is_complaint=result.is_complaint, complaint_proba=float(result.complaint_proba), genre=result.genre,
        topic_group=result.topic_group, topic=result.topic, topic_proba=float(result.topic_proba),
        municipality=result.municipality, settlement=result.settlement, geo_evidence=result.geo_evidence,
        geo_confidence=float(result.geo_confidence), importance=result.importance,
        reasons=list(result.reasons), worker=worker,
    )


def analysis_of(row: AnalysisRow) -> Analysis:
    """The Analysis a stored row holds (genre None for a row made before genres)."""
    return Analysis(
        item_pk=row.item_pk, model_version=row.model_version, is_complaint=row.is_complaint,
        complaint_proba=row.complaint_proba, topic_group=row.topic_group, topic_proba=row.topic_proba,
        topic=row.topic, municipality=row.municipality, settlement=row.settlement, geo_evidence=row.geo_evidence,
        geo_confidence=row.geo_confidence, importance=row.importance, reasons=tuple(row.reasons or ()),
        genre=row.genre)


def _parent_places(session: Session, items: list[Item], results: dict[int, Analysis]) -> dict[int, Analysis]:
    """For comments that name no place: the analysis of the post they comment on, if it names one."""
    orphans = [i for i in items if i.parent_id and results[i.id].geo_evidence is None]
    if not orphans:
        return {}
    in_batch = {(i.source, i.item_id): results[i.id] for i in items}
    wanted = {(i.source, i.parent_id) for i in orphans} - set(in_batch)
    stored: dict[tuple[str, str], Analysis] = {}
    for source, parent_id in wanted:
        row = session.execute(
            sa.select(AnalysisRow).join(Item, Item.id == AnalysisRow.item_pk)
            .where(Item.source == source, Item.item_id == parent_id, AnalysisRow.revision == Item.revision)
            .order_by(AnalysisRow.id.desc()).limit(1)
        ).scalar()
        if row is not None:
            stored[(source, parent_id)] = analysis_of(row)
    parents = {**stored, **in_batch}
    found = {}
    for item in orphans:
        parent = parents.get((item.source, item.parent_id))
        if parent is not None and parent.geo_evidence and parent.municipality:
            found[item.id] = parent
    return found


def inherit_parent_place(result: Analysis, parent: Analysis) -> Analysis:
    """A comment that names no place is about the place of the post it answers."""
    where = parent.settlement or parent.municipality
    return replace(
        result, municipality=parent.municipality, settlement=parent.settlement,
        geo_confidence=round(parent.geo_confidence * 0.9, 4),
        reasons=(*[r for r in result.reasons if not r.startswith("geo:")],
                 f"geo: place of the post commented on: «{parent.geo_evidence}» → {where}"),
    )


def analyse_batch(sessions: sessionmaker[Session], analyzer: Analyzer, *, worker: str, batch: int,
                  on_batch: Callable[[list[Item]], None] | None = None) -> Counter:
    """Analyse one claimed batch in one transaction; if it fails, item by item (an item that fails alone is
    parked). Returns Counter(items=analysed, failed=parked), empty when nothing waits.

    `on_batch(items)` is called once each transaction is committed (metrics, the daemon's heartbeat).
    """
    return run_batch(sessions, "analyse", batch, lambda ids, n: analyse_claimed(
        sessions, analyzer, worker=worker, batch=n, ids=ids, on_batch=on_batch))


def analyse_claimed(sessions: sessionmaker[Session], analyzer: Analyzer, *, worker: str, batch: int,
                    ids: list[int] | None = None, on_batch: Callable[[list[Item]], None] | None = None) -> Counter:
    """Claim up to `batch` items (only `ids` if given), analyse them and store the analyses in one transaction."""
    with sessions.begin() as s:
        items = claim_items(s, "analyse", batch, ids=ids)
        if not items:
            return Counter()
        ctx = _contexts(s, items)
        inputs = [analysis_input(i, *ctx.get(i.source, (None, None))) for i in items]
        results = analyzer.analyze(inputs)
        if len(results) != len(items):
            raise RuntimeError(f"analyzer returned {len(results)} results for {len(items)} items")
        by_pk = {i.id: i for i in items}
        by_item = {r.item_pk: r for r in results}
        for pk, parent in _parent_places(s, items, by_item).items():
            by_item[pk] = inherit_parent_place(by_item[pk], parent)
        for result in by_item.values():
            item = by_pk[result.item_pk]
            s.add(analysis_row(result, item, worker))
            item.stage = "route"
    if on_batch is not None:
        on_batch(items)
    return Counter(items=len(items))


def analyse_pending(sessions: sessionmaker[Session], analyzer: Analyzer, *, worker: str, batch: int = 500,
                    stop: threading.Event | None = None, run_id: str | None = None,
                    on_batch: Callable[[list[Item]], None] | None = None) -> int:
    """Analyse until nothing waits (or `stop` is set between batches); returns the number analysed.

    A pass that found nothing to do leaves no `runs` row.
    """
    total = 0
    with record_run(sessions, "analyse", worker=worker, run_id=run_id, keep_empty=False) as run:
        while not (stop and stop.is_set()):
            counts = analyse_batch(sessions, analyzer, worker=worker, batch=batch, on_batch=on_batch)
            if not counts:
                break
            total += counts["items"]
            run.add(**counts)
        run.counts.setdefault("items", 0)
        run.counts["model_version"] = analyzer.version
    if total:
        log.info("analysed %d items with model %s", total, analyzer.version)
    return total
