"""Held-out scores: complaint precision/recall, topic accuracy/F1 and the confidence-threshold coverage curve."""
from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from sklearn.metrics import accuracy_score, classification_report, f1_score, precision_recall_fscore_support

THRESHOLDS = (0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95)
TARGETS = (0.90, 0.95)


def score_split(vectorizer, complaint, topic, rows: pd.DataFrame) -> dict[str, Any]:
    """Complaint scores on rows with a complaint label, topic scores on spb rows (the time-split test)."""
    out: dict[str, Any] = {}
    labelled = rows[rows["is_complaint"].notna()]
    if len(labelled):
        proba = complaint.predict_proba(vectorizer.transform(labelled["lemmas"]))[:, 1]
        out["complaint"] = complaint_scores(labelled["is_complaint"].astype(int).to_numpy(), proba,
                                            labelled["source"].to_numpy())
    spb = rows[(rows["source"] == "spb") & rows["topic_group"].notna()]
    if len(spb):
        proba = topic.predict_proba(vectorizer.transform(spb["lemmas"]))
        out["topic_spb"] = topic_scores(spb["topic_group"].to_numpy(), proba, topic.classes_)
    return out


def complaint_scores(truth: np.ndarray, proba: np.ndarray, sources: np.ndarray | None = None,
                     threshold: float = 0.5) -> dict[str, Any]:
    """Precision, recall, F1 of the complaint class overall and per source."""
    pred = (proba >= threshold).astype(int)
    p, r, f, _ = precision_recall_fscore_support(truth, pred, average="binary", zero_division=0)
    out: dict[str, Any] = {"n": int(len(truth)), "precision": round(float(p), 4), "recall": round(float(r), 4),
                           "f1": round(float(f), 4), "accuracy": round(float(accuracy_score(truth, pred)), 4)}
    if sources is not None:
        out["by_source"] = {str(s): {"n": int((sources == s).sum()),
                                     "accuracy": round(float((pred[sources == s] == truth[sources == s]).mean()), 4)}
                            for s in sorted(set(sources))}
    return out


def topic_scores(truth: np.ndarray, proba: np.ndarray, classes: np.ndarray) -> dict[str, Any]:
    """Accuracy, macro-F1, per-class P/R/F1 and coverage at confidence thresholds."""
    pred = classes[proba.argmax(axis=1)]
    conf = proba.max(axis=1)
    report = classification_report(truth, pred, output_dict=True, zero_division=0)
    per_class = {k: {m: round(float(v[m]), 4) for m in ("precision", "recall", "f1-score", "support")}
                 for k, v in report.items() if isinstance(v, dict) and k not in ("macro avg", "weighted avg")}
    present = sorted(set(truth))
    return {"n": int(len(truth)), "accuracy": round(float(accuracy_score(truth, pred)), 4),
            "macro_f1": round(float(f1_score(truth, pred, labels=present, average="macro", zero_division=0)), 4),
            "per_class": per_class, "curve": coverage_curve(truth == pred, conf),
            "coverage_at_precision": {str(t): coverage_at(truth == pred, conf, t) for t in TARGETS}}


def coverage_curve(correct: np.ndarray, conf: np.ndarray) -> list[dict[str, float]]:
    """For each threshold: share of items with confidence ≥ it (coverage) and their precision."""
    rows = []
    for t in THRESHOLDS:
        kept = conf >= t
        prec = float(correct[kept].mean()) if kept.any() else float("nan")
        rows.append({"threshold": t, "coverage": round(float(kept.mean()), 4), "precision": round(prec, 4)})
    return rows


def coverage_at(correct: np.ndarray, conf: np.ndarray, target: float) -> dict[str, float]:
    """The largest share that can be auto-routed with precision ≥ target, and the threshold that gives it."""
    order = np.argsort(-conf, kind="stable")
    hits = np.cumsum(correct[order])
    precision = hits / np.arange(1, len(order) + 1)
    ok = np.nonzero(precision >= target)[0]
    if not len(ok):
        return {"coverage": 0.0, "threshold": 1.0}
    last = ok[-1]
    return {"coverage": round(float((last + 1) / len(order)), 4), "threshold": round(float(conf[order][last]), 4)}


def summary_line(scores: dict[str, Any]) -> str:
    """One line: complaint P/R, topic accuracy/macro-F1, coverage at 90/95 %."""
    parts = []
    if "complaint" in scores:
        c = scores["complaint"]
        parts.append(f"complaint P={c['precision']:.3f} R={c['recall']:.3f} (n={c['n']})")
    for key in ("topic_spb", "topic_golden"):
        if key in scores:
            t = scores[key]
            cov = t["coverage_at_precision"]
            parts.append(f"{key} acc={t['accuracy']:.3f} macroF1={t['macro_f1']:.3f} "
                         f"cov@90={cov['0.9']['coverage']:.2f} cov@95={cov['0.95']['coverage']:.2f} (n={t['n']})")
    return "; ".join(parts)
