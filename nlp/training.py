"""Train the genre (complaint / notice / other) and topic-group classifiers and save a model version.

Two linear heads, each over its own TF-IDF (nlp.features): the topic head reads the lemmas without function
words, the genre head every lemma plus grammar, punctuation and structure marks. Rows are weighted so that no
source dominates by size alone: the SPb portal (32k appeals of one city) counts less per row, the hand-labelled
sets more (real posts most: they are the genre the centre reads), seed topic names more; topic classes are
re-weighted towards balance.

Selection protocol: parameters are chosen on the train parts only — the SPb validation period
(`validate`) and leave-one-source-out scores of the labelled sets' train parts (`select`) — never on a test
part; `train` fits on every train part and scores the test parts once.

Example:
    card = train(Path("../shared/data"), progress=print)      # writes models/<version>/, does not promote
    heads = fit(rows[rows["source"] != "chuvashia"])            # the heads of a leave-one-source-out run
"""
from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression

from nlp import data
from nlp.artifacts import save_bundle
from nlp.features import STOPWORDS
from nlp.registry import next_version, resolve

SEED = 13
VALIDATION_FRACTION = 0.15  # latest share of the SPb training period used by `validate`


@dataclass(frozen=True)
class Params:
    """Everything that shapes a model; recorded in meta.json."""

    topic_vectorizer: dict[str, Any] = field(default_factory=lambda: dict(
        token_pattern=r"\S+", lowercase=False, ngram_range=(1, 2), min_df=2, max_df=0.5, max_features=120_000,
        sublinear_tf=True, dtype=np.float32))
    genre_vectorizer: dict[str, Any] = field(default_factory=lambda: dict(
        token_pattern=r"\S+", lowercase=False, ngram_range=(1, 2), min_df=2, max_df=0.5, max_features=80_000,
        sublinear_tf=True, dtype=np.float32))
    topic_c: float = 2.0  # select: 2 over 4 (unseen chuvashia 0.773 vs 0.762, troitsk 0.630 vs 0.624)
    genre_c: float = 4.0
    class_weight_power: float = 0.5  # topic class weight (largest / class count) ** power: 0 none, 1 balanced
    source_weights: dict[str, float] = field(default_factory=lambda: {
        "spb": 1.0, "seed": 5.0, "real_posts": 10.0, "chuvashia": 3.0, "troitsk": 3.0, "extra": 3.0})
    genre_source_weights: dict[str, float] = field(default_factory=lambda: {
        "spb": 0.25, "real_posts": 20.0, "chuvashia": 3.0, "troitsk": 3.0, "extra": 3.0})
    other_rows: int = 4000  # social/news rows that also train topic «Прочее»


@dataclass
class Heads:
    """The fitted parts of one model."""

    vectorizer: TfidfVectorizer  # topic text
    genre_vectorizer: TfidfVectorizer  # genre text
    genre: LogisticRegression  # complaint | notice | other
    topic: LogisticRegression  # ИМ topic group

    def estimators(self) -> dict[str, Any]:
        """The artifacts by file name (nlp.artifacts)."""
        return {"vectorizer": self.vectorizer, "genre_vectorizer": self.genre_vectorizer, "genre": self.genre,
                "topic": self.topic}


@dataclass(frozen=True)
class ModelCard:
    """A trained version: where it is and what it scored on held-out data."""

    version: str
    path: Path
    metrics: dict[str, Any] = field(default_factory=dict)
    meta: dict[str, Any] = field(default_factory=dict)


def _weights(rows: pd.DataFrame, by_source: dict[str, float]) -> np.ndarray:
    return rows["source"].map(lambda s: by_source.get(s, 1.0)).to_numpy(dtype=float)


def topic_training_rows(rows: pd.DataFrame, params: Params = Params()) -> pd.DataFrame:
    """Rows with a topic, plus a seeded sample of social/news rows labelled «Прочее»."""
    social = rows[rows["topic_group"].isna() & rows["source"].str.match(r"^(sentirueval|cedr)")]
    other = social.sample(min(params.other_rows, len(social)), random_state=SEED).assign(topic_group="Прочее")
    return pd.concat([rows[rows["topic_group"].notna()], other])


def fit(rows: pd.DataFrame, params: Params = Params(), say: data.Progress | None = None) -> Heads:
    """Fit both vectorizers and heads on `rows` (the training layout of nlp.data, with lemmas and gtext)."""
    say = say or (lambda _msg: None)
    vectorizer = TfidfVectorizer(**params.topic_vectorizer).fit(rows["lemmas"])
    genre_vectorizer = TfidfVectorizer(**params.genre_vectorizer).fit(rows["gtext"])
    say(f"vocabulary {len(vectorizer.vocabulary_)} topic terms, {len(genre_vectorizer.vocabulary_)} genre terms")
    has_genre = rows[rows["genre"].notna()]
    genre = LogisticRegression(C=params.genre_c, class_weight="balanced", max_iter=3000, random_state=SEED)
    genre.fit(genre_vectorizer.transform(has_genre["gtext"]), has_genre["genre"].astype(str),
              sample_weight=_weights(has_genre, params.genre_source_weights))
    say("fitted genre head")
    topic_rows = topic_training_rows(rows, params)
    counts = topic_rows["topic_group"].value_counts()
    class_weight = {c: float((counts.max() / n) ** params.class_weight_power) for c, n in counts.items()}
    topic = LogisticRegression(C=params.topic_c, max_iter=3000, random_state=SEED, class_weight=class_weight)
    topic.fit(vectorizer.transform(topic_rows["lemmas"]), topic_rows["topic_group"].astype(str),
              sample_weight=_weights(topic_rows, params.source_weights))
    say("fitted topic head")
    for head in (genre, topic):
        head.coef_ = head.coef_.astype(np.float32)
        head.intercept_ = head.intercept_.astype(np.float32)
    for vec in (vectorizer, genre_vectorizer):
        vec.stop_words_ = None  # not needed for transform; keeps the artifact small
    return Heads(vectorizer, genre_vectorizer, genre, topic)


def load_rows(shared: Path, extra: pd.DataFrame | None = None, sample: int | None = None,
              progress: data.Progress | None = None, spb_cutoff: pd.Timestamp | None = None
              ) -> tuple[pd.DataFrame, pd.Timestamp]:
    """Every source (and ops labels) de-duplicated and split, as training and evaluation see them."""
    rows = data.load_all(Path(shared), sample=sample, progress=progress)
    if extra is not None and len(extra):
        rows = pd.concat([rows, prepare_extra(extra)], ignore_index=True)
    return data.split_rows(rows, spb_cutoff=spb_cutoff)


def train(shared: Path, models_dir: Path | None = None, extra: pd.DataFrame | None = None,
          sample: int | None = None, version: str | None = None, progress: data.Progress | None = None,
          params: Params = Params()) -> ModelCard:
    """Load, de-duplicate, split, fit both heads on the train parts, score every test part, save a version."""
    from nlp import evaluation

    say = progress or (lambda _msg: None)
    shared = Path(shared)
    if not shared.is_dir():
        raise FileNotFoundError(f"training data folder {shared} does not exist (give --shared ../shared/data)")
    rows, cutoff = load_rows(shared, extra, sample, say)
    train_rows, test_rows = rows[rows["split"] == "train"], rows[rows["split"] == "test"]
    say(f"de-duplicated {len(rows)} rows: train {len(train_rows)}, test {len(test_rows)}; spb cutoff {cutoff}"
        + (f"; {len(extra)} ops labels added" if extra is not None and len(extra) else ""))
    heads = fit(train_rows, params, say)
    scores = evaluation.score_test_parts(heads, test_rows)
    say(f"held-out: {evaluation.summary_line(scores)}")
    version = version or next_version(models_dir)
    folder = resolve(models_dir) / version
    meta = describe(train_rows, test_rows, cutoff, sample, scores, heads, extra, params)
    meta = save_bundle(folder, heads.estimators(), {"version": version, **meta})
    say(f"saved {folder}")
    return ModelCard(version=version, path=folder, metrics=scores, meta=meta)


def validate(shared: Path, sample: int | None = None, progress: data.Progress | None = None,
             params: Params = Params()) -> dict[str, Any]:
    """Fit on the train part minus its latest SPb 15 %, score that 15 % (no test part is touched)."""
    from nlp import evaluation

    say = progress or (lambda _msg: None)
    rows, _cutoff = load_rows(shared, sample=sample, progress=say)
    fit_rows, val_rows = validation_split(rows[rows["split"] == "train"])
    say(f"validation: fit {len(fit_rows)} rows, validate on {len(val_rows)} spb rows from {val_rows['created_dt'].min()}")
    scores = evaluation.score_test_parts(fit(fit_rows, params, say), val_rows)
    say(f"validation: {evaluation.summary_line(scores)}")
    return scores


def validation_split(train_rows: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(fit rows, validation rows): validation = SPb training rows in the latest VALIDATION_FRACTION of dates."""
    spb = train_rows["source"] == "spb"
    cutoff = train_rows.loc[spb, "created_dt"].quantile(1 - VALIDATION_FRACTION)
    held = spb & (train_rows["created_dt"] >= cutoff)
    return train_rows[~held], train_rows[held]


def prepare_extra(extra: pd.DataFrame) -> pd.DataFrame:
    """Ops-labelled rows (text + topic_group and/or is_complaint / genre) in the training layout.

    A `genre` column wins; else is_complaint 1 → complaint and 0 → other (an operator's «not a complaint» does
    not say whether the post was an official notice)."""
    if "text" not in extra.columns or not ({"topic_group", "is_complaint", "genre"} & set(extra.columns)):
        raise ValueError("extra rows need a text column and topic_group, is_complaint and/or genre")
    flag = pd.to_numeric(extra["is_complaint"], errors="coerce").astype("float64") if "is_complaint" in extra \
        else pd.Series(np.nan, index=extra.index)
    genre = pd.Series(np.where(flag == 1, "complaint", np.where(flag == 0, "other", None)), index=extra.index)
    if "genre" in extra:
        genre = extra["genre"].where(extra["genre"].notna(), genre)
    unknown_genres = set(genre.dropna()) - {"complaint", "notice", "other"}
    if unknown_genres:
        raise ValueError(f"extra rows have unknown genres: {sorted(unknown_genres)}")
    out = pd.DataFrame({"text": extra["text"].astype(str), "source": "extra",
                        "created_dt": pd.Timestamp.now(tz=None), "topic_group": extra.get("topic_group"),
                        "genre": genre.where(genre.notna(), None), "channel": extra.get("channel"),
                        "split": "train"})
    unknown = set(out["topic_group"].dropna()) - set(data.read_groups())
    if unknown:
        raise ValueError(f"extra rows have unknown topic groups: {sorted(unknown)}")
    return data.add_keys(out)


def describe(train_rows: pd.DataFrame, test_rows: pd.DataFrame, cutoff: pd.Timestamp, sample: int | None,
             scores: dict[str, Any], heads: Heads, extra: pd.DataFrame | None, params: Params) -> dict[str, Any]:
    """The meta.json body: data snapshot, split, label sets, parameters and metrics."""
    return {
        "created_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "data": {
            "description": data.__doc__.strip(),
            "sources": {k: int(v) for k, v in train_rows["source"].value_counts().items()},
            "test_sources": {k: int(v) for k, v in test_rows["source"].value_counts().items()},
            "train_sha256": data.snapshot_sha256(train_rows),
            "test_sha256": data.snapshot_sha256(test_rows),
            "sample_per_source": sample,
            "extra_rows": 0 if extra is None else len(extra),
            "split": "dedup by normalised lemma key (hand-labelled rows first); labelled sets keep their split; "
                     "spb by created_dt (latest 20 % test); others by key hash",
            "spb_cutoff": str(cutoff),
        },
        "labels": {"genre": [str(c) for c in heads.genre.classes_],
                   "topic_group": [str(c) for c in heads.topic.classes_], "importance": ["normal", "high"]},
        "params": {**{k: ({kk: str(vv) for kk, vv in v.items()} if isinstance(v, dict) else v)
                      for k, v in asdict(params).items()}, "seed": SEED, "stopwords": sorted(STOPWORDS)},
        "metrics": scores,
    }


def params_from_meta(meta: dict[str, Any]) -> Params:
    """The Params a version was trained with (for leave-one-source-out runs of that version)."""
    saved = (meta or {}).get("params") or {}
    defaults = Params()
    out = {}
    for name in ("topic_c", "genre_c", "class_weight_power", "other_rows"):
        if name in saved:
            out[name] = type(getattr(defaults, name))(saved[name])
    for name in ("source_weights", "genre_source_weights"):
        if isinstance(saved.get(name), dict):
            out[name] = {k: float(v) for k, v in saved[name].items()}
    return replace(defaults, **out)


def select(rows: pd.DataFrame, params: Params = Params(), progress: data.Progress | None = None
           ) -> dict[str, dict[str, Any]]:
    """Parameter-selection scores on the train parts only (no test row is fitted or scored):
    - `<set> unseen`: fitted without the set, scored on its train part (a region or genre never seen);
    - `<set> seen`: two folds by key hash over the labelled sets' train parts, each scored by a model fitted
      on the other fold and everything else;
    - `spb validation`: the latest 15 % of the SPb training period, fitted on the rest."""
    from nlp.analyzer import Analyzer
    from nlp.evaluation import score_rows

    say = progress or (lambda _msg: None)
    train_rows = rows[rows["split"] == "train"]
    labelled = train_rows["source"].isin(data.LABELLED).to_numpy()
    fold = np.array([int(hashlib.md5(k.encode()).hexdigest()[:8], 16) % 2 for k in train_rows["key"]])
    out: dict[str, dict[str, Any]] = {}

    def scored(fit_rows: pd.DataFrame, held: pd.DataFrame, names: list[str], label: str) -> None:
        analyzer = Analyzer.from_heads(fit(fit_rows, params), use_geo=False)
        for name in names:
            part = held[held["source"] == name]
            if len(part):
                s = score_rows(analyzer, part)
                out.setdefault(f"{name} {label}", {"n": 0, "parts": []})["parts"].append(s)

    for name in data.LABELLED:
        if (train_rows["source"] == name).any():
            say(f"select: without {name}")
            scored(train_rows[train_rows["source"] != name], train_rows, [name], "unseen")
    for f in (0, 1):
        say(f"select: labelled fold {f}")
        held = labelled & (fold == f)
        scored(train_rows[~held], train_rows[held], list(data.LABELLED), "seen")
    fit_rows, val_rows = validation_split(train_rows)
    say("select: spb validation")
    scored(fit_rows, val_rows, ["spb"], "validation")
    return {k: _pool(v["parts"]) for k, v in out.items()}


def _pool(parts: list[dict[str, Any]]) -> dict[str, Any]:
    """Row-weighted topic accuracy, per-group recall floor and complaint F1 over folds."""
    n_topic = sum(p["topic"]["n"] for p in parts if p.get("topic"))
    pooled = {"n": sum(p["n"] for p in parts)}
    if n_topic:
        pooled["topic_accuracy"] = round(sum(p["topic"]["accuracy"] * p["topic"]["n"] for p in parts
                                             if p.get("topic")) / n_topic, 4)
    genre = [p["genre"] for p in parts if p.get("genre")]
    if genre:
        pooled["complaint_f1"] = round(float(np.mean([g["complaint"]["f1"] for g in genre])), 4)
        pooled["genre_accuracy"] = round(float(np.mean([g["accuracy"] for g in genre])), 4)
    return pooled
