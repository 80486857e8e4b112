"""Score model versions for the CLI: per labelled set, confusion-matrix PNG, disagreements between versions.

Held-out rows come from a labelled file (`tsur labels export`, an ИМ export: text and is_complaint, genre
and/or topic_group) or from the test parts of every labelled set, rebuilt exactly as training split them.
Scores and report lines are nlp.evaluation's, so numbers match `python -m nlp.evaluation`.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd


@dataclass
class Scored:
    """One version's predictions and scores on the held-out rows (per set, and over all rows as `all`)."""

    version: str
    genre: np.ndarray
    complaint_proba: np.ndarray
    topic: np.ndarray
    topic_proba: np.ndarray
    sets: dict[str, dict[str, Any]]

    @property
    def scores(self) -> dict[str, Any]:
        """Scores over all rows."""
        return self.sets["all"]


def heldout_from_file(path: Path) -> pd.DataFrame:
    """Labelled rows from a file (text; genre and/or is_complaint and/or topic_group; optional channel)."""
    from tsur.labels_io import read_table

    df = read_table(path)
    if not {"is_complaint", "topic_group", "genre"} & set(df.columns):
        raise ValueError(f"{path}: needs an is_complaint, genre and/or topic_group («Группа тем») column")
    flag = pd.to_numeric(df.get("is_complaint"), errors="coerce") if "is_complaint" in df else \
        pd.Series(np.nan, index=df.index)
    genre = pd.Series(np.where(flag == 1, "complaint", np.where(flag == 0, "not complaint", None)), index=df.index)
    if "genre" in df:
        genre = df["genre"].replace("", None).where(df["genre"].replace("", None).notna(), genre)
    out = pd.DataFrame({"text": df["text"].astype(str), "genre": genre,
                        "topic_group": df.get("topic_group", pd.Series(dtype=str)).replace("", None),
                        "channel": df.get("channel", pd.Series(dtype=str)), "source": path.name})
    return out[out["text"].str.strip().astype(bool)].reset_index(drop=True)


def heldout_from_shared(shared: Path, sample: int | None, spb_cutoff: str | None) -> pd.DataFrame:
    """The test parts of every set as training split them (same sample and SPb cutoff); without ../shared,
    the test part of the sets in the project."""
    from nlp import data, labelled_sets
    from nlp.training import load_rows

    if Path(shared).is_dir():
        rows, _ = load_rows(Path(shared), sample=sample, spb_cutoff=pd.Timestamp(spb_cutoff) if spb_cutoff else None)
    else:
        rows, _ = data.split_rows(data.add_keys(labelled_sets.load_sets(None).assign(created_dt=pd.NaT)))
    test = rows[rows["split"] == "test"]
    return test.assign(source=np.where(test["source"].str.match(r"^(sentirueval|cedr)"), "social",
                                       test["source"])).reset_index(drop=True)


def _with_binary_genre(scores: dict[str, Any], rows: pd.DataFrame, genre: np.ndarray) -> dict[str, Any]:
    """A file that only says complaint / not complaint: genre scores on that split."""
    from nlp import metrics

    has = rows["genre"].notna().to_numpy()
    if not has.any():
        return scores
    pred = np.where(genre == "complaint", "complaint", "not complaint")
    return {**scores, "genre": metrics.genre_scores(rows.loc[has, "genre"].to_numpy(dtype=object), pred[has])}


def score(models_dir: Path, version: str, rows: pd.DataFrame, loso: bool = False) -> Scored:
    """Predict with one version and score every set of `rows` (its `source` column) and all rows together."""
    from nlp import evaluation
    from nlp.analyzer import load_analyzer

    analyzer = load_analyzer(models_dir, version, use_geo=True)
    results = analyzer.analyze(evaluation.inputs_of(rows))
    binary = bool((rows["genre"] == "not complaint").any())  # a file with is_complaint only: score that split
    plain = rows.assign(genre=None) if binary else rows
    genre = np.array([r.genre for r in results], dtype=object)
    def scores_of(part: pd.DataFrame) -> dict[str, Any]:
        got = evaluation.score_rows(analyzer, part)
        return _with_binary_genre(got, rows.loc[part.index], genre[part.index.to_numpy()]) if binary else got

    sets = {"all": scores_of(plain)}
    if rows["source"].nunique() > 1:
        for name, part in plain.groupby("source", sort=False):
            sets[str(name)] = scores_of(part)
    return Scored(version, genre, np.array([r.complaint_proba for r in results]),
                  np.array([r.topic_group for r in results], dtype=object),
                  np.array([r.topic_proba for r in results]), sets)


def leave_one_source_out(models_dir: Path, version: str, shared: Path, progress=None) -> dict[str, Any]:
    """nlp.evaluation's leave-one-source-out scores with the parameters `version` was trained with."""
    from nlp import evaluation
    from nlp.artifacts import read_meta
    from nlp.training import load_rows, params_from_meta

    if not Path(shared).is_dir():
        raise FileNotFoundError(f"leave-one-source-out re-fits models on {shared}, which does not exist")
    meta = read_meta(Path(models_dir) / version)
    cutoff = (meta.get("data") or {}).get("spb_cutoff")
    rows, _ = load_rows(Path(shared), sample=(meta.get("data") or {}).get("sample_per_source"),
                        spb_cutoff=pd.Timestamp(cutoff) if cutoff else None)
    return evaluation.leave_one_source_out(rows, params_from_meta(meta), progress=progress)


def golden(models_dir: Path, version: str) -> dict[str, Any]:
    """Scores on nlp's hand-checked Crimean golden table ({} when the table is absent)."""
    from nlp import evaluation
    from nlp.analyzer import load_analyzer

    if not evaluation.GOLDEN.is_file():
        return {}
    return evaluation.score_golden(load_analyzer(models_dir, version), evaluation.read_golden())


def report_lines(scored: Scored, gold: dict[str, Any], loso: dict[str, Any] | None = None) -> list[str]:
    """The report as nlp.evaluation formats it: each set, leave-one-source-out, then the golden table."""
    from nlp.evaluation import format_complaint, format_set, format_topic

    lines = []
    names = [n for n in scored.sets if n != "all"] or ["all"]
    for name in names:
        lines += ["", f"{name} ({scored.sets[name]['n']} held-out rows):"] + format_set(scored.sets[name])
    for name, scores in (loso or {}).items():
        lines += ["", f"{name} leave-one-source-out (fitted without any {name} row; {scores['n']} rows):"]
        lines += format_set(scores)
    if gold:
        lines += ["", f"golden table ({gold['n']} hand-checked Crimean posts):"]
        lines += format_complaint(gold["complaint"]) + format_topic("topic on the golden table", gold["topic"])
        lines.append(f"importance accuracy on complaints: {gold['importance_accuracy']:.3f} (n={gold['n_complaints']})")
    return lines


def per_class_rows(scores: dict[str, Any]) -> list[dict[str, Any]]:
    """The topic head's per-class precision/recall/F1/support as table rows."""
    per_class = (scores.get("topic") or {}).get("per_class", {})
    return [{"class": k, **{m.replace("-score", ""): v for m, v in row.items()}}
            for k, row in sorted(per_class.items(), key=lambda kv: -kv[1]["support"])]


def save_confusion_png(rows: pd.DataFrame, scored: Scored, path: Path) -> Path:
    """A topic-group confusion matrix (rows: truth, normalised per row) as a PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from sklearn.metrics import ConfusionMatrixDisplay

    has_t = rows["topic_group"].notna().to_numpy()
    if not has_t.any():
        raise ValueError("no held-out row has a topic_group label: no confusion matrix")
    truth, pred = rows.loc[has_t, "topic_group"].astype(str).to_numpy(), scored.topic[has_t].astype(str)
    labels = sorted(set(truth) | set(pred))
    size = max(6.0, 0.45 * len(labels) + 3)
    fig, ax = plt.subplots(figsize=(size, size))
    ConfusionMatrixDisplay.from_predictions(truth, pred, labels=labels, normalize="true", values_format=".2f",
                                            xticks_rotation=90, ax=ax, colorbar=False, cmap="Blues")
    ax.set_title(f"model {scored.version}: topic groups\n(n={int(has_t.sum())}, each true row sums to 1)", fontsize=10)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def disagreements(rows: pd.DataFrame, a: Scored, b: Scored, limit: int | None = None) -> list[dict[str, Any]]:
    """Rows where the two versions differ on genre or topic, with the truth where known."""
    differ = np.nonzero((a.genre != b.genre) | (a.topic != b.topic))[0]
    out = []
    for i in differ[:limit] if limit else differ:
        truth = rows.iloc[i]
        known = [str(truth[k]) for k in ("genre", "topic_group") if isinstance(truth.get(k), str)]
        out.append({"row": int(i), "text": truth["text"], "truth": " ".join(known) or "—",
                    f"{a.version}": f"{a.genre[i]} ({a.complaint_proba[i]:.2f}) {a.topic[i]} ({a.topic_proba[i]:.2f})",
                    f"{b.version}": f"{b.genre[i]} ({b.complaint_proba[i]:.2f}) {b.topic[i]} ({b.topic_proba[i]:.2f})"})
    return out


def headline(scores: dict[str, Any]) -> dict[str, Any]:
    """The few numbers to compare two versions by."""
    g, t = scores.get("genre") or {}, scores.get("topic") or {}
    c = g.get("complaint") or {}
    return {"complaint_precision": c.get("precision"), "complaint_recall": c.get("recall"),
            "complaint_f1": c.get("f1"), "notice_f1": (g.get("notice") or {}).get("f1"),
            "genre_accuracy": g.get("accuracy"), "topic_accuracy": t.get("accuracy"),
            "topic_macro_f1": t.get("macro_f1"),
            "topic_coverage_at_95": (t.get("coverage_at_precision") or {}).get("0.95", {}).get("coverage"),
            "n_genre": g.get("n"), "n_topic": t.get("n")}
