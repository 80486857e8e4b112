"""Evaluate a model version on the SPb time-split held-out part and on the hand-checked Crimean golden table.

Example:
    /work/venv/bin/python -m nlp.evaluation                    # active version, ../shared/data, golden table
    /work/venv/bin/python -m nlp.evaluation --version 2026.11.23-1 --sample 3000
"""
from __future__ import annotations

import argparse
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from nlp import data, metrics
from nlp.analyzer import Analyzer, load_analyzer
from nlp.features import model_text
from tsur.records import AnalysisInput

ROOT = Path(__file__).resolve().parents[1]
GOLDEN = ROOT / "tests" / "nlp" / "golden_crimea.tsv"
SHARED = ROOT.parent / "shared" / "data"


@dataclass(frozen=True)
class Report:
    """Scores of one version: `held_out` (SPb time split + other sources) and `golden` (Crimean table)."""

    version: str
    held_out: dict[str, Any] = field(default_factory=dict)
    golden: dict[str, Any] = field(default_factory=dict)

    def to_text(self) -> str:
        """A readable multi-line report."""
        lines = [f"model {self.version}"]
        if self.held_out:
            lines += ["", "== held-out (de-duplicated; SPb: latest 20 % by created_dt) =="]
            lines += format_complaint(self.held_out.get("complaint"))
            lines += format_topic("topic on SPb held-out", self.held_out.get("topic_spb"))
        if self.golden:
            g = self.golden
            lines += ["", f"== Crimean golden table ({g['n']} hand-checked posts) =="]
            lines += format_complaint(g["complaint"])
            lines += format_topic("topic (all rows)", g["topic"])
            lines.append(f"importance accuracy on complaints: {g['importance_accuracy']:.3f} (n={g['n_complaints']})")
            if g.get("errors"):
                lines.append("misses (field: expected -> got | text):")
                lines += [f"  {e}" for e in g["errors"]]
        return "\n".join(lines)


def format_complaint(c: dict[str, Any] | None) -> list[str]:
    """Lines for the complaint scores."""
    if not c:
        return []
    out = [f"complaint: precision {c['precision']:.3f}  recall {c['recall']:.3f}  F1 {c['f1']:.3f}  "
           f"accuracy {c['accuracy']:.3f}  (n={c['n']})"]
    out += [f"  {src:<22} accuracy {v['accuracy']:.3f} (n={v['n']})" for src, v in c.get("by_source", {}).items()]
    return out


def format_topic(title: str, t: dict[str, Any] | None) -> list[str]:
    """Lines for per-class P/R/F1, accuracy, macro-F1 and the coverage curve."""
    if not t:
        return []
    out = [f"{title}: accuracy {t['accuracy']:.3f}  macro-F1 {t['macro_f1']:.3f}  (n={t['n']})",
           f"  {'class':<34}{'prec':>7}{'recall':>8}{'F1':>7}{'n':>7}"]
    for name, m in t["per_class"].items():
        out.append(f"  {name:<34}{m['precision']:>7.3f}{m['recall']:>8.3f}{m['f1-score']:>7.3f}{int(m['support']):>7}")
    out.append("  confidence ≥ t: coverage / precision  " +
               "  ".join(f"{r['threshold']:.2f}: {r['coverage']:.2f}/{r['precision']:.3f}" for r in t["curve"]))
    for target, v in t["coverage_at_precision"].items():
        out.append(f"  auto-routable at {float(target):.0%} precision: {v['coverage']:.1%} of items "
                   f"(threshold {v['threshold']:.3f})")
    return out


def read_golden(path: Path = GOLDEN) -> pd.DataFrame:
    """The golden table: is_complaint, topic_group, importance, text (lines starting with # are comments)."""
    return pd.read_csv(path, sep="\t", comment="#", header=None, quoting=3,
                       names=["is_complaint", "topic_group", "importance", "text"], dtype={"is_complaint": int})


def score_golden(analyzer: Analyzer, table: pd.DataFrame) -> dict[str, Any]:
    """Complaint, topic and importance scores of `analyzer` on a golden table, with the misses listed."""
    results = analyzer.analyze([AnalysisInput(i, t) for i, t in enumerate(table["text"])])
    truth_c = table["is_complaint"].to_numpy()
    proba_c = np.array([r.complaint_proba for r in results])
    classes = np.asarray(analyzer.topic.classes_)
    proba_t = analyzer.topic.predict_proba(analyzer.vectorizer.transform(
        [model_text(data.lemmas(t)) for t in table["text"]]))
    complaints = truth_c == 1
    got_imp = np.array([r.importance for r in results])
    errors = []
    for row, r in zip(table.itertuples(index=False), results):
        if bool(row.is_complaint) != r.is_complaint:
            errors.append(f"complaint: {row.is_complaint} -> {int(r.is_complaint)} | {row.text}")
        if row.topic_group != r.topic_group:
            errors.append(f"topic: {row.topic_group} -> {r.topic_group} | {row.text}")
        if row.is_complaint and row.importance != r.importance:
            errors.append(f"importance: {row.importance} -> {r.importance} | {row.text}")
    return {"n": len(table), "n_complaints": int(complaints.sum()),
            "complaint": metrics.complaint_scores(truth_c, proba_c),
            "topic": metrics.topic_scores(table["topic_group"].to_numpy(), proba_t, classes),
            "importance_accuracy": round(float((got_imp[complaints] == table["importance"].to_numpy()[complaints])
                                               .mean()), 4),
            "errors": errors}


def score_held_out(analyzer: Analyzer, shared: Path, sample: int | None, progress=None) -> dict[str, Any]:
    """Re-create the training split (same de-dup, same SPb cutoff) and score its test part."""
    rows = data.load_all(shared, sample=sample, progress=progress)
    cutoff = pd.Timestamp(analyzer.meta["data"]["spb_cutoff"])
    rows, _ = data.split_rows(rows, spb_cutoff=cutoff)
    test = rows[rows["split"] == "test"]
    return metrics.score_split(analyzer.vectorizer, analyzer.complaint, analyzer.topic, test)


def evaluate(version: str | None = None, models_dir: Path | None = None, shared: Path | None = SHARED,
             golden: Path | None = GOLDEN, sample: int | None = None, progress=None) -> Report:
    """Report of `version` (default: active) on the held-out split (if `shared` exists) and the golden table."""
    analyzer = load_analyzer(models_dir, version)
    sample = sample if sample is not None else analyzer.meta["data"].get("sample_per_source")
    held = score_held_out(analyzer, Path(shared), sample, progress) if shared and Path(shared).is_dir() else {}
    gold = score_golden(analyzer, read_golden(golden)) if golden else {}
    return Report(version=analyzer.version, held_out=held, golden=gold)


def main(argv: list[str] | None = None) -> int:
    """Command line: print the evaluation report."""
    parser = argparse.ArgumentParser(prog="python -m nlp.evaluation", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", default=None, help="model version (default: models/ACTIVE)")
    parser.add_argument("--models-dir", type=Path, default=None)
    parser.add_argument("--shared", type=Path, default=SHARED, help="../shared/data folder")
    parser.add_argument("--golden-only", action="store_true", help="skip the held-out split")
    parser.add_argument("--golden", type=Path, default=GOLDEN)
    parser.add_argument("--sample", type=int, default=None, help="rows per source (default: as in training)")
    args = parser.parse_args(argv)
    shared = None if args.golden_only else args.shared
    report = evaluate(args.version, args.models_dir, shared, args.golden, args.sample)
    print(report.to_text())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
