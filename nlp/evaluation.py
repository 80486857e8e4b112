"""Evaluate a model version on the SPb time-split held-out part and on the hand-checked Crimean golden table.

Example:
    python -m nlp.evaluation                    # active version, ../shared/data, golden table
    python -m nlp.evaluation --version 2026.11.23-1 --sample 3000
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
from nlp.lemma_rules import grams_of
from nlp.topics import fine_topic, load_topic_rules
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
    fine_topics: dict[str, Any] = field(default_factory=dict)

    def to_text(self) -> str:
        """A readable multi-line report."""
        lines = [f"model {self.version}"]
        if self.held_out:
            lines += ["", "== held-out (de-duplicated; SPb: latest 20 % by created_dt) =="]
            lines += format_complaint(self.held_out.get("complaint"))
            lines += format_topic("topic on SPb held-out", self.held_out.get("topic_spb"))
        if self.fine_topics:
            lines += ["", "== fine-topic rules on SPb appeals whose reason names an ИМ topic (true group given) =="]
            lines += format_fine_topics(self.fine_topics)
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


def format_fine_topics(f: dict[str, Any]) -> list[str]:
    """Lines for the fine-topic rule scores, per split."""
    out = []
    for split, v in f.items():
        out.append(f"{split}: right {v['right']:.3f}  wrong topic {v['wrong']:.3f}  none {v['none']:.3f}  "
                   f"(n={v['n']}); rules fired on {v['fired_elsewhere']:.3f} of {v['n_elsewhere']} other appeals "
                   "of the same groups (an upper bound of false alarms)")
        out += [f"  {reason[:60]:<60} right {m['right']:.3f} (n={m['n']})" for reason, m in v["by_reason"].items()]
    return out


def score_fine_topics(shared: Path, cutoff: pd.Timestamp) -> dict[str, Any]:
    """nlp.topics rules on de-duplicated SPb appeals: held-out (from `cutoff` on) and all, given the true group."""
    walk = pd.read_csv(data.CONFIG / "spb_fine_topics.csv")
    accepted = {r: set(t.split("|")) for r, t in zip(walk["spb_reason"], walk["im_topics"])}
    spb = data.load_spb(shared).drop_duplicates("text")
    groups = {r.topic_group for r in load_topic_rules()}
    spb = spb[spb["topic_group"].isin(groups)]
    found = [fine_topic(g, grams_of(data.lemmas(t)))[0] for g, t in zip(spb["topic_group"], spb["text"])]
    spb = spb.assign(found=found, mapped=spb["spb_reason"].isin(accepted))
    return {name: _fine_scores(part, accepted) for name, part in
            (("held-out", spb[spb["created_dt"] >= cutoff]), ("all", spb))}


def _fine_scores(rows: pd.DataFrame, accepted: dict[str, set[str]]) -> dict[str, Any]:
    mapped, other = rows[rows["mapped"]], rows[~rows["mapped"]]
    right = np.array([f in accepted[r] for f, r in zip(mapped["found"], mapped["spb_reason"])], dtype=bool)
    none = mapped["found"].isna().to_numpy()
    n = max(len(mapped), 1)
    return {"n": len(mapped), "right": round(right.sum() / n, 4), "none": round(none.sum() / n, 4),
            "wrong": round((~right & ~none).sum() / n, 4), "n_elsewhere": len(other),
            "fired_elsewhere": round(float(other["found"].notna().mean()) if len(other) else 0.0, 4),
            "by_reason": {r: {"n": int(m.sum()), "right": round(float(right[m.to_numpy()].mean()), 4)}
                          for r in accepted if (m := mapped["spb_reason"] == r).any()}}


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
    has_shared = bool(shared) and Path(shared).is_dir()
    held = score_held_out(analyzer, Path(shared), sample, progress) if has_shared else {}
    fine = score_fine_topics(Path(shared), pd.Timestamp(analyzer.meta["data"]["spb_cutoff"])) if has_shared else {}
    gold = score_golden(analyzer, read_golden(golden)) if golden else {}
    return Report(version=analyzer.version, held_out=held, golden=gold, fine_topics=fine)


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
