"""Held-out scores: genre (complaint / notice / other) and complaint precision/recall, topic accuracy/F1 with the
confidence-threshold coverage curve, importance agreement."""
from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from sklearn.metrics import accuracy_score, classification_report, f1_score, precision_recall_fscore_support

THRESHOLDS = (0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95)
TARGETS = (0.90, 0.95)


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
    return topic_scores_of(truth, classes[proba.argmax(axis=1)], proba.max(axis=1))


def topic_scores_of(truth: np.ndarray, pred: np.ndarray, conf: np.ndarray) -> dict[str, Any]:
    """`topic_scores` from the predicted classes and their probabilities."""
    truth, pred, conf = np.asarray(truth, dtype=object), np.asarray(pred, dtype=object), np.asarray(conf, dtype=float)
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


def genre_scores(truth: np.ndarray, pred: np.ndarray) -> dict[str, Any]:
    """Three-way genre accuracy and confusion, complaint P/R/F1 (notices and other news are not complaints) and
    notice P/R/F1."""
    out: dict[str, Any] = {"n": int(len(truth)), "accuracy": round(float(accuracy_score(truth, pred)), 4)}
    for name in ("complaint", "notice"):
        p, r, f, _ = precision_recall_fscore_support(truth == name, pred == name, average="binary", zero_division=0)
        out[name] = {"precision": round(float(p), 4), "recall": round(float(r), 4), "f1": round(float(f), 4),
                     "support": int((truth == name).sum())}
    labels = ["complaint", "notice", "other"]
    out["confusion"] = {t: {p: int(((truth == t) & (pred == p)).sum()) for p in labels} for t in labels}
    return out


def agreement(truth: np.ndarray, pred: np.ndarray) -> dict[str, Any]:
    """Share of equal labels (importance, places), with the count."""
    return {"n": int(len(truth)), "accuracy": round(float((truth == pred).mean()) if len(truth) else float("nan"), 4)}


def summary_line(scores: dict[str, dict[str, Any]]) -> str:
    """One line over the sets: topic accuracy and complaint F1 of each."""
    parts = []
    for name, s in scores.items():
        bits = []
        if s.get("topic"):
            bits.append(f"topic {s['topic']['accuracy']:.3f}")
        if s.get("genre"):
            bits.append(f"complaint F1 {s['genre']['complaint']['f1']:.3f}")
        parts.append(f"{name} {' '.join(bits)} (n={s['n']})")
    return "; ".join(parts)
