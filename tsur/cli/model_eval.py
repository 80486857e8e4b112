"""Analysts: `models evaluate` (report, confusion-matrix PNG) and `models compare` (candidate vs active)."""
from __future__ import annotations

from contextlib import nullcontext
from pathlib import Path
from typing import Optional

import typer

from tsur.cli import evaluation
from tsur.cli.models import SHARED, app
from tsur.cli.output import print_rows, say
from tsur.cli.state import State, state

DataOpt = typer.Option(None, "--data", help="Labelled held-out file (.csv/.parquet/.xlsx with text and "
                       "is_complaint, genre and/or topic_group), e.g. from `tsur labels export`.")
SharedOpt = typer.Option(SHARED, "--shared", help="Without --data: rebuild the test part of every labelled set "
                         "(the shared data's and datasets/).")


def _rows(st: State, data: Optional[Path], shared: Path, version: str):
    from nlp.artifacts import read_meta

    if data is not None:
        return evaluation.heldout_from_file(data)
    meta = read_meta(st.settings.models_dir / version).get("data") or {}
    busy = nullcontext() if st.json else st.console.status(f"rebuilding the held-out parts of {shared}")
    with busy:
        return evaluation.heldout_from_shared(shared, meta.get("sample_per_source"), meta.get("spb_cutoff"))


def _version(st: State, version: Optional[str]) -> str:
    from nlp.registry import active_version, list_versions

    version = version or active_version(st.settings.models_dir)
    if version not in list_versions(st.settings.models_dir):
        raise KeyError(f"no model version {version!r} in {st.settings.models_dir}")
    return version


@app.command("evaluate")
def evaluate(ctx: typer.Context,
             version: Optional[str] = typer.Argument(None, help="Version to score (default: the active one)."),
             data: Optional[Path] = DataOpt, shared: Path = SharedOpt,
             loso: bool = typer.Option(False, "--loso", help="Also leave-one-source-out: re-fit the version's "
                                       "model without each labelled set and score that set (minutes)."),
             with_golden: bool = typer.Option(True, "--golden/--no-golden", help="Also score nlp's Crimean golden "
                                              "table."),
             png: Optional[Path] = typer.Option(None, "--png", help="Where to save the confusion matrix "
                                                "(default: <data_dir>/confusion-<version>.png).")) -> None:
    """Score a model on held-out rows, each labelled set apart: topic accuracy, per-group recall, complaint and
    notice P/R/F1, auto-routable share, importance and place agreement; a confusion-matrix PNG.

    Example: tsur models evaluate --loso --png var/cm.png
    """
    st = state(ctx)
    version = _version(st, version)
    rows = _rows(st, data, shared, version)
    scored = evaluation.score(st.settings.models_dir, version, rows)
    out_of = {}
    if loso:
        busy = nullcontext() if st.json else st.console.status("leave-one-source-out: re-fitting")
        with busy:
            out_of = evaluation.leave_one_source_out(st.settings.models_dir, version, shared)
    gold = evaluation.golden(st.settings.models_dir, version) if with_golden else {}
    png_path = None
    if scored.scores.get("topic"):
        png_path = evaluation.save_confusion_png(rows, scored, png or st.settings.data_dir / f"confusion-{version}.png")
    result = {"version": version, "rows": len(rows), **evaluation.headline(scored.scores),
              "per_class": evaluation.per_class_rows(scored.scores), "sets": scored.sets, "loso": out_of,
              "golden": gold, "png": str(png_path) if png_path else None}
    if st.json:
        say(st, "", result)
        return
    lines = [f"model {version}, {len(rows)} held-out rows"] + evaluation.report_lines(scored, gold, out_of)
    st.console.print("\n".join(lines), highlight=False, markup=False)
    if png_path:
        st.console.print(f"confusion matrix: {png_path}", highlight=False)


@app.command("compare")
def compare(ctx: typer.Context, candidate: str = typer.Argument(..., help="The candidate version."),
            data: Optional[Path] = DataOpt, shared: Path = SharedOpt,
            against: Optional[str] = typer.Option(None, "--against", help="Version to compare with "
                                                  "(default: the active one)."),
            limit: int = typer.Option(20, "--limit", min=0,
                                      help="Show at most this many disagreements (0: all).")) -> None:
    """Score a candidate and the active model on the same held-out rows; list the rows where they disagree.

    Example: tsur models compare 2026.11.24-1 --data var/labels.csv --limit 50
    """
    st = state(ctx)
    explicit = against is not None
    candidate, against = _version(st, candidate), _version(st, against)
    if candidate == against:
        raise ValueError(f"{candidate} is {'--against' if explicit else 'the active version'} itself: "
                         "compare another version (see `tsur models list`)")
    rows = _rows(st, data, shared, candidate)
    a, b = (evaluation.score(st.settings.models_dir, v, rows) for v in (against, candidate))
    table = [{"metric": k, against: v, candidate: evaluation.headline(b.scores)[k]}
             for k, v in evaluation.headline(a.scores).items()]
    differ = evaluation.disagreements(rows, a, b)
    if st.json:
        say(st, "", {"active": against, "candidate": candidate, "rows": len(rows), "metrics": table,
                     "disagreements": differ})
        return
    print_rows(st, table, {"metric": "Metric", against: f"{against} (active)", candidate: candidate},
               title=f"{len(rows)} held-out rows")
    print_rows(st, differ[:limit] if limit else differ,
               {"row": "Row", "truth": "Truth", against: against, candidate: candidate, "text": "Text"},
               title=f"{len(differ)} disagreement(s)" + (f", the first {limit} shown (--limit 0: all)"
                                                         if limit and len(differ) > limit else ""), widths={"text": 60}, empty="the two versions agree on every row")
