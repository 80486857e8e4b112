"""Analysts: train, evaluate, compare, promote and roll back NLP models; list them with their metrics."""
from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from tsur.cli.output import print_rows, say
from tsur.cli.state import State, state
from tsur.settings import ROOT

app = typer.Typer(no_args_is_help=True, help="NLP models: list, train, evaluate, compare, promote, rollback.\n\n"
                  "Example: tsur models list")
SHARED = ROOT.parent / "shared" / "data"
# the progress messages of nlp.training.train: loaded × 4 shared sources and the labelled sets (nlp.data.load_all),
# de-duplicated, vocabulary, fitted genre head, fitted topic head, held-out, saved
TRAIN_STEPS = 11


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
    columns = [BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), TextColumn("{task.description}")]
    with Progress(*columns, console=st.console, transient=st.json, disable=st.json) as progress:
        task, done = progress.add_task("loading data", total=TRAIN_STEPS), [0]

        def step(message: str) -> None:
            done[0] += 1  # a step more than expected grows the bar rather than overflow it
            progress.update(task, description=message.split(":")[0], completed=done[0],
                            total=max(TRAIN_STEPS, done[0]))
            if not st.json:
                progress.console.print(f"  {message}", highlight=False, markup=False)

        card = training.train(shared, _models_dir(st), extra=extra, sample=sample, version=version, progress=step)
    if promote:
        registry.promote(card.version, _models_dir(st))
    from nlp.metrics import summary_line

    say(st, f"trained {card.version}{' (active)' if promote else ''}: {summary_line(card.metrics)}",
        {"version": card.version, "path": str(card.path), "metrics": card.metrics, "active": promote})


@app.command("promote")
def promote(ctx: typer.Context, version: str = typer.Argument(..., help="A version from `tsur models list`.")) -> None:
    """Make a model version the active one (the daemon loads it on its next start); its files are checked first.

    Example: tsur models promote 2026.11.23-2
    """
    from nlp.registry import is_active, list_versions
    from nlp.registry import promote as promote_version

    st = state(ctx)
    if version not in list_versions(_models_dir(st)):
        raise KeyError(f"no model version {version!r} in {_models_dir(st)}")
    already = is_active(version, _models_dir(st))
    promote_version(version, _models_dir(st))
    note = " (already active: nothing changed)" if already else ""
    say(st, f"active model: {version}{note}", {"active": version, "changed": not already})


@app.command("rollback")
def rollback(ctx: typer.Context) -> None:
    """Re-activate the model version that was active before the current one.

    Example: tsur models rollback
    """
    from nlp.registry import rollback as rollback_version

    st = state(ctx)
    version = rollback_version(_models_dir(st))
    say(st, f"active model: {version} (rolled back)", {"active": version})

