"""Analysts: train, evaluate, compare, promote and roll back NLP models; list them with their metrics."""
from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from tsur.cli.output import print_rows, say
from tsur.cli.state import State, state
from tsur.settings import ROOT

app = typer.Typer(no_args_is_help=True, help="NLP models: list, train, evaluate, compare, promote, rollback.\n\n"
                  "Example: tsur models list")
SHARED = ROOT.parent / "shared" / "data"


def _models_dir(st: State) -> Path:
    return st.settings.models_dir


def _summary(meta: dict) -> dict:
    from nlp.metrics import summary_line

    scores = meta.get("metrics") or {}
    return {"created_at": meta.get("created_at"), "metrics": summary_line(scores) if scores else "",
            "extra_rows": (meta.get("data") or {}).get("extra_rows")}


@app.command("list")
def list_models(ctx: typer.Context) -> None:
    """List model versions with their held-out metrics; the active one is marked.

    Example: tsur --json models list
    """
    from nlp.artifacts import read_meta
    from nlp.registry import active_version, list_versions

    st = state(ctx)
    root = _models_dir(st)
    try:
        active = active_version(root)
    except LookupError:
        active = None
    rows = [{"version": v, "active": v == active, **_summary(read_meta(root / v))} for v in list_versions(root)]
    if not st.json:
        for r in rows:
            r["active"] = "*" if r["active"] else ""
    print_rows(st, rows, {"active": "Active", "version": "Version", "created_at": "Created", "metrics": "Metrics"},
               title=f"Models in {root}", empty=f"no models in {root}: run `tsur models train`")


def _labels_frame(st: State):
    from tsur.labels_io import labels_frame, training_frame

    with st.sessions() as s:
        frame = training_frame(labels_frame(s))
    frame = frame[frame["text"].notna() & (frame["topic_group"].notna() | frame["is_complaint"].notna())]
    # plain float: nlp's data snapshot hashing refuses nullable Int64/Float64 columns
    return frame.assign(is_complaint=frame["is_complaint"].astype("float64"))


@app.command("train")
def train(ctx: typer.Context,
          shared: Path = typer.Option(SHARED, "--shared", help="The shared data folder with the training sets."),
          sample: Optional[int] = typer.Option(None, "--sample", help="At most this many rows per source (quick runs)."),
          with_labels: bool = typer.Option(False, "--with-labels", help="Add the labels table (ops corrections, "
                                           "imports) to the training data."),
          version: Optional[str] = typer.Option(None, "--version", help="Name of the new version (default: date-N)."),
          promote: bool = typer.Option(False, "--promote", help="Make the new version active at once.")) -> None:
    """Train the complaint and topic classifiers and save a new model version (not active unless --promote).

    Example: tsur models train --with-labels --sample 20000
    """
    from nlp import registry, training

    st = state(ctx)
    extra = _labels_frame(st) if with_labels else None
    columns = [SpinnerColumn(), TextColumn("[bold]{task.completed} steps"), TextColumn("{task.description}"),
               TimeElapsedColumn()]
    with Progress(*columns, console=st.console, transient=st.json, disable=st.json) as progress:
        task = progress.add_task("loading data", total=None)

        def step(message: str) -> None:
            progress.update(task, description=message, advance=1)
            if not st.json:
                progress.console.print(f"  {message}", highlight=False)

        card = training.train(shared, _models_dir(st), extra=extra, sample=sample, version=version, progress=step)
    if promote:
        registry.promote(card.version, _models_dir(st))
    from nlp.metrics import summary_line

    say(st, f"trained {card.version}{' (active)' if promote else ''}: {summary_line(card.metrics)}",
        {"version": card.version, "path": str(card.path), "metrics": card.metrics, "active": promote})


@app.command("promote")
def promote(ctx: typer.Context, version: str = typer.Argument(..., help="A version from `tsur models list`.")) -> None:
    """Make a model version the active one (the daemon loads it on its next start).

    Example: tsur models promote 2026.11.23-2
    """
    from nlp.registry import list_versions
    from nlp.registry import promote as promote_version

    st = state(ctx)
    if version not in list_versions(_models_dir(st)):
        raise KeyError(f"no model version {version!r} in {_models_dir(st)}")
    promote_version(version, _models_dir(st))
    say(st, f"active model: {version}", {"active": version})


@app.command("rollback")
def rollback(ctx: typer.Context) -> None:
    """Re-activate the model version that was active before the current one.

    Example: tsur models rollback
    """
    from nlp.registry import rollback as rollback_version

    st = state(ctx)
    version = rollback_version(_models_dir(st))
    say(st, f"active model: {version} (rolled back)", {"active": version})


DataOpt = typer.Option(None, "--data", help="Labelled held-out file (.csv/.parquet/.xlsx with text and "
                       "is_complaint and/or topic_group), e.g. from `tsur labels export`.")
SharedOpt = typer.Option(SHARED, "--shared", help="Without --data: rebuild the test split of this shared data.")


def _rows(st: State, data: Optional[Path], shared: Path, version: str):
    from nlp.artifacts import read_meta

    from tsur.cli import evaluation

    if data is not None:
        return evaluation.heldout_from_file(data)
    sample = (read_meta(_models_dir(st) / version).get("data") or {}).get("sample_per_source")
    with st.console.status(f"rebuilding the held-out split of {shared} (sample {sample})", disable=st.json):
        return evaluation.heldout_from_shared(shared, sample)


def _version(st: State, version: Optional[str]) -> str:
    from nlp.registry import active_version, list_versions

    version = version or active_version(_models_dir(st))
    if version not in list_versions(_models_dir(st)):
        raise KeyError(f"no model version {version!r} in {_models_dir(st)}")
    return version


@app.command("evaluate")
def evaluate(ctx: typer.Context,
             version: Optional[str] = typer.Argument(None, help="Version to score (default: the active one)."),
             data: Optional[Path] = DataOpt, shared: Path = SharedOpt,
             png: Optional[Path] = typer.Option(None, "--png", help="Where to save the confusion matrix "
                                                "(default: <data_dir>/confusion-<version>.png).")) -> None:
    """Score a model on held-out rows: complaint P/R/F1, per-class topic report, confusion-matrix PNG.

    Example: tsur models evaluate 2026.11.23-2 --data var/labels.parquet --png var/cm.png
    """
    from tsur.cli import evaluation

    st = state(ctx)
    version = _version(st, version)
    rows = _rows(st, data, shared, version)
    scored = evaluation.score(_models_dir(st), version, rows)
    png_path = None
    if scored.scores.get("topic"):
        png_path = evaluation.save_confusion_png(rows, scored, png or st.settings.data_dir / f"confusion-{version}.png")
    result = {"version": version, "rows": len(rows), **evaluation.headline(scored.scores),
              "per_class": evaluation.per_class_rows(scored.scores), "png": str(png_path) if png_path else None}
    if st.json:
        say(st, "", result)
        return
    print_rows(st, result["per_class"], {"class": "Topic group", "precision": "Precision", "recall": "Recall",
                                         "f1": "F1", "support": "Support"}, title=f"Topic groups, {version}",
               empty="no topic labels in the held-out rows")
    st.console.print(", ".join(f"{k} {v}" for k, v in evaluation.headline(scored.scores).items() if v is not None),
                     highlight=False)
    if png_path:
        st.console.print(f"confusion matrix: {png_path}", highlight=False)


@app.command("compare")
def compare(ctx: typer.Context, candidate: str = typer.Argument(..., help="The candidate version."),
            data: Optional[Path] = DataOpt, shared: Path = SharedOpt,
            against: Optional[str] = typer.Option(None, "--against", help="Version to compare with "
                                                  "(default: the active one)."),
            limit: int = typer.Option(20, "--limit", help="Show at most this many disagreements (0: all).")) -> None:
    """Score a candidate and the active model on the same held-out rows; list the rows where they disagree.

    Example: tsur models compare 2026.11.24-1 --data var/labels.csv --limit 50
    """
    from tsur.cli import evaluation

    st = state(ctx)
    candidate, against = _version(st, candidate), _version(st, against)
    rows = _rows(st, data, shared, candidate)
    a, b = (evaluation.score(_models_dir(st), v, rows) for v in (against, candidate))
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
               {"row": "Row", "truth_topic": "Truth", against: against, candidate: candidate, "text": "Text"},
               title=f"{len(differ)} disagreement(s)", widths={"text": 60}, empty="the two versions agree on every row")
