"""Evaluate a model version on every labelled set apart, and leave-one-source-out.

Sets (nlp.data, nlp.labelled_sets): `real_posts` (quotes of public pages of 22 regions, in the project),
`chuvashia` and `troitsk` (another region's portal and a town's forum, texts from ../shared/data), `spb` (the
St Petersburg portal, latest 20 % by time), `social` (tweets and blog/news sentences: genre only) — each scored
on its test part, which no model was fitted on — and the hand-checked Crimean golden table.

Leave-one-source-out (`--loso`): for each labelled set, a model with the version's parameters is fitted on the
train parts of every *other* source and scored on all rows of the left-out set (SPb: its test part) — the figure
for a region or genre the model has never seen. It re-fits one model per set (minutes).

Per set: topic accuracy, macro-F1 and per-group recall, the share auto-routable at 90/95 % topic precision;
genre accuracy with complaint and notice precision/recall/F1 (a notice or news item called a complaint is a
false complaint); importance agreement on complaints; municipality and settlement agreement on Crimean rows.

Example:
    python -m nlp.evaluation                           # active version, every set, golden table
    python -m nlp.evaluation --loso --sets real_posts  # also the leave-one-source-out figure of real posts
"""
from __future__ import annotations

import argparse
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from nlp import data, labelled_sets, metrics
from nlp.metrics import summary_line  # noqa: F401 (the one-line summary lives with the metrics)
from nlp.analyzer import Analyzer, load_analyzer
from nlp.lemma_rules import grams_of
from nlp.topics import fine_topic, load_topic_rules
from tsur.records import AnalysisInput

ROOT = Path(__file__).resolve().parents[1]
GOLDEN = ROOT / "tests" / "nlp" / "golden_crimea.tsv"
SHARED = ROOT.parent / "shared" / "data"
SETS = ("real_posts", "chuvashia", "troitsk", "spb", "social")
LOSO_SETS = ("real_posts", "chuvashia", "troitsk", "spb")
CRIMEA = ("Республика Крым", "Севастополь")
# how a labelled row would have reached the centre: (item kind, written by the page itself, source kind)
CHANNEL_INPUT = {"official_post": ("post", True, "госпаблик"), "media_post": ("post", True, "media"),
                 "citizen_comment": ("comment", False, "госпаблик"), "citizen_post": ("post", False, "community"),
                 "appeal": ("post", False, None)}


@dataclass(frozen=True)
class Report:
    """Scores of one version: per set (test parts), leave-one-source-out, golden table, fine-topic rules."""

    version: str
    sets: dict[str, dict[str, Any]] = field(default_factory=dict)
    loso: dict[str, dict[str, Any]] = field(default_factory=dict)
    golden: dict[str, Any] = field(default_factory=dict)
    fine_topics: dict[str, Any] = field(default_factory=dict)

    def to_text(self) -> str:
        """A readable multi-line report."""
        lines = [f"model {self.version}"]
        for name, scores in self.sets.items():
            lines += ["", f"== {name}: test part ({scores['n']} rows, never trained on) =="] + format_set(scores)
        for name, scores in self.loso.items():
            lines += ["", f"== {name}: leave-one-source-out (a model fitted without any {name} row; "
                          f"{scores['n']} rows) =="] + format_set(scores)
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


def format_set(s: dict[str, Any]) -> list[str]:
    """Lines for one set's scores."""
    out = format_genre(s.get("genre")) + format_topic("topic", s.get("topic"))
    if s.get("importance"):
        out.append(f"importance agreement on complaints: {s['importance']['accuracy']:.3f} (n={s['importance']['n']})")
    for key in ("municipality", "settlement"):
        if s.get(key):
            out.append(f"{key} agreement on Crimean rows: {s[key]['accuracy']:.3f} (n={s[key]['n']})")
    return out


def format_genre(g: dict[str, Any] | None) -> list[str]:
    """Lines for the genre scores."""
    if not g:
        return []
    c, n = g["complaint"], g["notice"]
    out = [f"complaint: precision {c['precision']:.3f}  recall {c['recall']:.3f}  F1 {c['f1']:.3f}  (n={c['support']}; "
           "notices and other texts are not complaints)",
           f"notice:    precision {n['precision']:.3f}  recall {n['recall']:.3f}  F1 {n['f1']:.3f}  (n={n['support']})",
           f"genre accuracy {g['accuracy']:.3f} (n={g['n']}); truth → predicted: " + "; ".join(
               f"{t} → " + "/".join(str(v) for v in row.values()) for t, row in g["confusion"].items())
           + " (complaint/notice/other)"]
    return out


def format_complaint(c: dict[str, Any] | None) -> list[str]:
    """Lines for binary complaint scores (golden table)."""
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


def inputs_of(rows: pd.DataFrame) -> list[AnalysisInput]:
    """AnalysisInputs of labelled rows, their structure from the row's channel."""
    channels = rows["channel"] if "channel" in rows else pd.Series([None] * len(rows), index=rows.index)
    out = []
    for i, (text, channel) in enumerate(zip(rows["text"].astype(str), channels)):
        kind, by_source, source_kind = CHANNEL_INPUT.get(channel if isinstance(channel, str) else "", (None, None, None))
        out.append(AnalysisInput(i, text, None, source_kind, kind, by_source))
    return out


def _present(rows: pd.DataFrame, column: str) -> np.ndarray:
    if column not in rows:
        return np.zeros(len(rows), dtype=bool)
    values = rows[column]
    return (values.notna() & (values.astype(str).str.strip() != "")).to_numpy()


def score_rows(analyzer: Analyzer, rows: pd.DataFrame) -> dict[str, Any]:
    """Every score the labels of `rows` allow (genre, topic, importance, Crimean places)."""
    rows = rows.reset_index(drop=True)
    results = analyzer.analyze(inputs_of(rows))
    out: dict[str, Any] = {"n": len(rows)}
    genre = np.array([r.genre for r in results], dtype=object)
    has = _present(rows, "genre")
    if has.any():
        out["genre"] = metrics.genre_scores(rows.loc[has, "genre"].to_numpy(dtype=object), genre[has])
    has = _present(rows, "topic_group")
    if has.any():
        out["topic"] = metrics.topic_scores_of(rows.loc[has, "topic_group"].to_numpy(dtype=object),
                                               np.array([r.topic_group for r in results], dtype=object)[has],
                                               np.array([r.topic_proba for r in results])[has])
    has = _present(rows, "importance") & _present(rows, "genre")
    if has.any():
        has &= (rows["genre"] == "complaint").to_numpy()
        out["importance"] = metrics.agreement(rows.loc[has, "importance"].to_numpy(dtype=object),
                                              np.array([r.importance for r in results], dtype=object)[has])
    if "region" in rows and "municipality" in rows:
        crimea = rows["region"].isin(CRIMEA).to_numpy()
        if crimea.any():
            for key in ("municipality", "settlement"):  # no place named == no place found counts as agreement
                truth = np.where(_present(rows, key), rows[key].astype(str), "")[crimea]
                got = np.array([getattr(r, key) or "" for r in results], dtype=object)[crimea]
                out[key] = metrics.agreement(truth, got)
    return out


def set_rows(rows: pd.DataFrame, name: str) -> pd.DataFrame:
    """The rows of one set in the split layout of nlp.data (social = sentirueval and cedr)."""
    if name == "social":
        return rows[rows["source"].str.match(r"^(sentirueval|cedr)")]
    return rows[rows["source"] == name]


def score_test_parts(heads_or_analyzer, test_rows: pd.DataFrame, sets: tuple[str, ...] = SETS
                     ) -> dict[str, dict[str, Any]]:
    """Scores of every set present in `test_rows` (a model's held-out rows)."""
    analyzer = heads_or_analyzer if isinstance(heads_or_analyzer, Analyzer) else Analyzer.from_heads(heads_or_analyzer)
    out = {}
    for name in sets:
        part = set_rows(test_rows, name)
        if len(part):
            out[name] = score_rows(analyzer, part)
    return out


def leave_one_source_out(rows: pd.DataFrame, params, sets: tuple[str, ...] = LOSO_SETS,
                         progress=None) -> dict[str, dict[str, Any]]:
    """For each set: fit on the train parts of every other source, score all rows of the set (spb: its test part)."""
    from nlp.training import fit

    say = progress or (lambda _msg: None)
    out = {}
    for name in sets:
        held = set_rows(rows, name)
        if name == "spb":
            held = held[held["split"] == "test"]
        if not len(held):
            continue
        say(f"leave-one-source-out: fitting without {name}")
        heads = fit(rows[(rows["split"] == "train") & (rows["source"] != name)], params)
        out[name] = score_rows(Analyzer.from_heads(heads, version=f"without {name}"), held)
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
            "topic": metrics.topic_scores_of(table["topic_group"].to_numpy(dtype=object),
                                             np.array([r.topic_group for r in results], dtype=object),
                                             np.array([r.topic_proba for r in results])),
            "importance_accuracy": round(float((got_imp[complaints] == table["importance"].to_numpy()[complaints])
                                               .mean()), 4),
            "errors": errors}


def held_out_rows(analyzer: Analyzer, shared: Path | None, sample: int | None, progress=None
                  ) -> pd.DataFrame:
    """Every row, split as the version's training split them (same de-dup, same SPb cutoff); without
    ../shared only the sets in the project (real posts)."""
    from nlp.training import load_rows

    if shared is not None and Path(shared).is_dir():
        cutoff = pd.Timestamp(analyzer.meta["data"]["spb_cutoff"]) if analyzer.meta.get("data") else None
        rows, _ = load_rows(Path(shared), sample=sample, progress=progress, spb_cutoff=cutoff)
        return rows
    rows = data.add_keys(labelled_sets.load_sets(None).assign(created_dt=pd.NaT))
    return rows


def evaluate(version: str | None = None, models_dir: Path | None = None, shared: Path | None = SHARED,
             golden: Path | None = GOLDEN, sample: int | None = None, loso: bool = False,
             sets: tuple[str, ...] = SETS, progress=None) -> Report:
    """Report of `version` (default: active) on every set's test part, the golden table and, with `loso`,
    leave-one-source-out."""
    from nlp.training import params_from_meta

    analyzer = load_analyzer(models_dir, version)
    sample = sample if sample is not None else (analyzer.meta.get("data") or {}).get("sample_per_source")
    has_shared = bool(shared) and Path(shared).is_dir()
    rows = held_out_rows(analyzer, shared if has_shared else None, sample, progress)
    scored = score_test_parts(analyzer, rows[rows["split"] == "test"], sets)
    out_of = leave_one_source_out(rows, params_from_meta(analyzer.meta), tuple(s for s in LOSO_SETS if s in sets),
                                  progress) if loso and has_shared else {}
    fine = score_fine_topics(Path(shared), pd.Timestamp(analyzer.meta["data"]["spb_cutoff"])) \
        if has_shared and "spb" in sets else {}
    gold = score_golden(analyzer, read_golden(golden)) if golden else {}
    return Report(version=analyzer.version, sets=scored, loso=out_of, golden=gold, fine_topics=fine)


def main(argv: list[str] | None = None) -> int:
    """Command line: print the evaluation report."""
    parser = argparse.ArgumentParser(prog="python -m nlp.evaluation", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", default=None, help="model version (default: models/ACTIVE)")
    parser.add_argument("--models-dir", type=Path, default=None)
    parser.add_argument("--shared", type=Path, default=SHARED, help="../shared/data folder")
    parser.add_argument("--sets", default=",".join(SETS), help=f"comma-separated sets (default: {','.join(SETS)})")
    parser.add_argument("--loso", action="store_true", help="also leave-one-source-out (re-fits a model per set)")
    parser.add_argument("--golden-only", action="store_true", help="only the golden table")
    parser.add_argument("--golden", type=Path, default=GOLDEN)
    parser.add_argument("--sample", type=int, default=None, help="rows per shared source (default: as in training)")
    args = parser.parse_args(argv)
    sets = tuple(s.strip() for s in args.sets.split(",") if s.strip())
    unknown = set(sets) - set(SETS)
    if unknown:
        parser.error(f"unknown sets {sorted(unknown)}; known: {', '.join(SETS)}")
    if args.golden_only:
        analyzer = load_analyzer(args.models_dir, args.version)
        print(Report(analyzer.version, golden=score_golden(analyzer, read_golden(args.golden))).to_text())
        return 0
    report = evaluate(args.version, args.models_dir, args.shared, args.golden, args.sample, args.loso, sets)
    print(report.to_text())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
