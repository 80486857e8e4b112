"""Score model versions on labelled held-out rows: per-class report, confusion-matrix PNG, disagreements.

Held-out rows come from a labelled file (`tsur labels export`, an ИМ export: text, is_complaint and/or
topic_group) or from the test split of the shared training data, rebuilt exactly as training split it.
Scores use nlp.metrics and the report nlp.evaluation's formatting, so numbers match `python -m nlp.evaluation`.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd


@dataclass
class Scored:
    """One version's predictions and scores on the held-out rows."""

    version: str
    complaint_proba: np.ndarray
    topic: np.ndarray
    topic_proba: np.ndarray
    scores: dict[str, Any]


def heldout_from_file(path: Path) -> pd.DataFrame:
    """Labelled rows from a file, with `lemmas` for the models."""
    from nlp.data import add_keys
    from tsur.labels_io import read_table

    df = read_table(path)
    if not {"is_complaint", "topic_group"} & set(df.columns):
        raise ValueError(f"{path}: needs an is_complaint and/or topic_group («Группа тем») column")
    out = pd.DataFrame({"text": df["text"].astype(str),
                        "is_complaint": pd.to_numeric(df.get("is_complaint"), errors="coerce"),
                        "topic_group": df.get("topic_group", pd.Series(dtype=str)).replace("", None)})
    out = out[out["text"].str.strip().astype(bool)]
    return add_keys(out.reset_index(drop=True))


def heldout_from_shared(shared: Path, sample: int | None, spb_cutoff: str | None) -> pd.DataFrame:
    """The test split of the shared data as training made it (same sample and SPb cutoff); topic labels
    are kept on SPb rows only, as nlp.evaluation scores them."""
    from nlp import data

    cutoff = pd.Timestamp(spb_cutoff) if spb_cutoff else None
    rows, _ = data.split_rows(data.load_all(Path(shared), sample=sample), spb_cutoff=cutoff)
    test = rows[rows["split"] == "test"].reset_index(drop=True)
    return test.assign(topic_group=test["topic_group"].where(test["source"] == "spb"))


def golden(models_dir: Path, version: str) -> dict[str, Any]:
    """Scores on nlp's hand-checked Crimean golden table ({} when the table is absent)."""
    from nlp import evaluation
    from nlp.analyzer import load_analyzer

    if not evaluation.GOLDEN.is_file():
        return {}
    return evaluation.score_golden(load_analyzer(models_dir, version), evaluation.read_golden())


def report_lines(scores: dict[str, Any], title: str, gold: dict[str, Any]) -> list[str]:
    """The report as nlp.evaluation formats it: complaint, per-class topic, coverage; then the golden table."""
    from nlp.evaluation import format_complaint, format_topic

    lines = format_complaint(scores.get("complaint")) + format_topic(title, scores.get("topic"))
    if gold:
        lines += ["", f"golden table ({gold['n']} hand-checked Crimean posts):"]
        lines += format_complaint(gold["complaint"]) + format_topic("topic on the golden table", gold["topic"])
        lines.append(f"importance accuracy on complaints: {gold['importance_accuracy']:.3f} (n={gold['n_complaints']})")
    return lines


def score(models_dir: Path, version: str, rows: pd.DataFrame) -> Scored:
    """Predict with one version and score complaint and topic against the rows' labels."""
    from nlp import metrics
    from nlp.analyzer import load_analyzer

    analyzer = load_analyzer(models_dir, version, use_geo=False)
    matrix = analyzer.vectorizer.transform(rows["lemmas"])
    p_complaint = analyzer.complaint.predict_proba(matrix)[:, 1]
    p_topic = analyzer.topic.predict_proba(matrix)
    classes = np.asarray(analyzer.topic.classes_)
    out: dict[str, Any] = {}
    has_c = rows["is_complaint"].notna().to_numpy()
    if has_c.any():
        out["complaint"] = metrics.complaint_scores(rows.loc[has_c, "is_complaint"].astype(int).to_numpy(),
                                                    p_complaint[has_c])
    has_t = rows["topic_group"].notna().to_numpy()
    if has_t.any():
        out["topic"] = metrics.topic_scores(rows.loc[has_t, "topic_group"].astype(str).to_numpy(), p_topic[has_t],
                                            classes)
    if not out:
        raise ValueError("no held-out row has an is_complaint or topic_group label")
    return Scored(version, p_complaint, classes[p_topic.argmax(axis=1)], p_topic.max(axis=1), out)


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
    truth, pred = rows.loc[has_t, "topic_group"].astype(str).to_numpy(), scored.topic[has_t]
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
    """Rows where the two versions differ on complaint or topic, with the truth where known."""
    ca, cb = a.complaint_proba >= 0.5, b.complaint_proba >= 0.5
    differ = np.nonzero((ca != cb) | (a.topic != b.topic))[0]
    out = []
    for i in differ[:limit] if limit else differ:
        truth = rows.iloc[i]
        out.append({"row": int(i), "text": truth["text"], "truth_topic": truth.get("topic_group"),
                    "truth_complaint": None if pd.isna(truth.get("is_complaint")) else int(truth["is_complaint"]),
                    f"{a.version}": f"{int(ca[i])} {a.topic[i]} {a.topic_proba[i]:.2f}",
                    f"{b.version}": f"{int(cb[i])} {b.topic[i]} {b.topic_proba[i]:.2f}"})
    return out


def headline(scores: dict[str, Any]) -> dict[str, Any]:
    """The few numbers to compare two versions by."""
    c, t = scores.get("complaint") or {}, scores.get("topic") or {}
    return {"complaint_precision": c.get("precision"), "complaint_recall": c.get("recall"),
            "complaint_f1": c.get("f1"), "topic_accuracy": t.get("accuracy"), "topic_macro_f1": t.get("macro_f1"),
            "topic_coverage_at_90": (t.get("coverage_at_precision") or {}).get("0.9", {}).get("coverage"),
            "n_complaint": c.get("n"), "n_topic": t.get("n")}
