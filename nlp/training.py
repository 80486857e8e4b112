"""Train the complaint and topic classifiers (one shared TF-IDF over lemmas) and save a model version.

Selection protocol: features and hyper-parameters are chosen with `validate` (fit on the SPb training period
minus its latest 15 %, score on that 15 %), never on the held-out test split; `train` then fits on the whole
training part and scores the held-out split once.

Example:
    card = train(Path("../shared/data"), progress=print)   # writes models/<version>/, does not promote
    validate(Path("../shared/data"))["topic_spb"]["accuracy"]   # validation score of the current parameters
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression

from nlp import data, metrics
from nlp.artifacts import save_bundle
from nlp.features import STOPWORDS
from nlp.registry import next_version, resolve

SEED = 13
VECTORIZER = dict(token_pattern=r"\S+", lowercase=False, ngram_range=(1, 2), min_df=2, max_df=0.5,
                  max_features=120_000, sublinear_tf=True, dtype=np.float32)
OTHER_ROWS = 4000  # social/news rows that also train topic «Прочее»
CLASS_WEIGHT_POWER = 0.5  # class weight (largest / class count) ** power: between none (0) and balanced (1)
SEED_WEIGHT = 5.0  # topic names / lexicon rows stand for many unseen texts of small groups
EXTRA_WEIGHT = 3.0  # ops corrections from the labels table
COMPLAINT_C = 4.0
TOPIC_C = 8.0  # validation: 4.0 scored 0.8844, 8.0 0.8834, 16.0 0.8782 (within noise; see models/README.md)
VALIDATION_FRACTION = 0.15  # latest share of the SPb training period used to choose parameters


@dataclass(frozen=True)
class ModelCard:
    """A trained version: where it is and what it scored on held-out data."""

    version: str
    path: Path
    metrics: dict[str, Any] = field(default_factory=dict)
    meta: dict[str, Any] = field(default_factory=dict)


def train(shared: Path, models_dir: Path | None = None, extra: pd.DataFrame | None = None,
          sample: int | None = None, version: str | None = None, progress: data.Progress | None = None) -> ModelCard:
    """Load, de-duplicate, time-split, fit both heads, score the test split and save a new version."""
    say = progress or (lambda _msg: None)
    rows = data.load_all(Path(shared), sample=sample, progress=say)
    if extra is not None and len(extra):
        rows = pd.concat([rows, prepare_extra(extra)], ignore_index=True)
    rows, cutoff = data.split_rows(rows)
    train_rows, test_rows = rows[rows["split"] == "train"], rows[rows["split"] == "test"]
    say(f"de-duplicated {len(rows)} rows: train {len(train_rows)}, test {len(test_rows)}; spb cutoff {cutoff}")
    vectorizer, complaint, topic = fit_heads(train_rows, say)
    scores = metrics.score_split(vectorizer, complaint, topic, test_rows)
    say(f"held-out: {metrics.summary_line(scores)}")
    version = version or next_version(models_dir)
    folder = resolve(models_dir) / version
    meta = describe(train_rows, test_rows, cutoff, sample, scores, topic, extra)
    meta = save_bundle(folder, {"vectorizer": vectorizer, "complaint": complaint, "topic": topic},
                       {"version": version, **meta})
    say(f"saved {folder}")
    return ModelCard(version=version, path=folder, metrics=scores, meta=meta)


def validate(shared: Path, sample: int | None = None, progress: data.Progress | None = None) -> dict[str, Any]:
    """Fit on the training part minus its latest SPb 15 %, score that 15 % (the test split is not touched)."""
    say = progress or (lambda _msg: None)
    rows, _cutoff = data.split_rows(data.load_all(Path(shared), sample=sample, progress=say))
    fit_rows, val_rows = validation_split(rows[rows["split"] == "train"])
    say(f"validation: fit {len(fit_rows)} rows, validate on {len(val_rows)} spb rows from {val_rows['created_dt'].min()}")
    vectorizer, complaint, topic = fit_heads(fit_rows, say)
    scores = metrics.score_split(vectorizer, complaint, topic, val_rows)
    say(f"validation: {metrics.summary_line(scores)}")
    return scores


def validation_split(train_rows: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(fit rows, validation rows): validation = SPb training rows in the latest VALIDATION_FRACTION of dates."""
    spb = train_rows["source"] == "spb"
    cutoff = train_rows.loc[spb, "created_dt"].quantile(1 - VALIDATION_FRACTION)
    held = spb & (train_rows["created_dt"] >= cutoff)
    return train_rows[~held], train_rows[held]


def prepare_extra(extra: pd.DataFrame) -> pd.DataFrame:
    """Ops-labelled rows (text + topic_group and/or is_complaint) in the training layout."""
    if "text" not in extra.columns or not ({"topic_group", "is_complaint"} & set(extra.columns)):
        raise ValueError("extra rows need a text column and topic_group and/or is_complaint")
    out = pd.DataFrame({"text": extra["text"].astype(str), "source": "extra",
                        "created_dt": pd.Timestamp.now(tz=None),
                        "topic_group": extra.get("topic_group"),
                        "is_complaint": pd.to_numeric(extra.get("is_complaint"), errors="coerce")})
    unknown = set(out["topic_group"].dropna()) - set(data.read_groups())
    if unknown:
        raise ValueError(f"extra rows have unknown topic groups: {sorted(unknown)}")
    return data.add_keys(out)


def fit_heads(rows: pd.DataFrame, say: data.Progress) -> tuple[TfidfVectorizer, LogisticRegression, LogisticRegression]:
    """Fit the shared TF-IDF and both logistic-regression heads (coefficients stored as float32)."""
    vectorizer = TfidfVectorizer(**VECTORIZER).fit(rows["lemmas"])
    matrix = vectorizer.transform(rows["lemmas"])
    say(f"vocabulary {len(vectorizer.vocabulary_)} terms")
    has_c = rows["is_complaint"].notna().to_numpy()
    complaint = LogisticRegression(C=COMPLAINT_C, class_weight="balanced", max_iter=2000, random_state=SEED)
    complaint.fit(matrix[has_c], rows.loc[has_c, "is_complaint"].astype(int))
    say("fitted complaint head")
    topic_rows = topic_training_rows(rows)
    weights = np.select([topic_rows["source"] == "seed", topic_rows["source"] == "extra"],
                        [SEED_WEIGHT, EXTRA_WEIGHT], 1.0)
    counts = topic_rows["topic_group"].value_counts()
    class_weight = {c: float((counts.max() / n) ** CLASS_WEIGHT_POWER) for c, n in counts.items()}
    topic = LogisticRegression(C=TOPIC_C, max_iter=2000, random_state=SEED, class_weight=class_weight)
    topic.fit(vectorizer.transform(topic_rows["lemmas"]), topic_rows["topic_group"].astype(str), sample_weight=weights)
    say("fitted topic head")
    for head in (complaint, topic):
        head.coef_ = head.coef_.astype(np.float32)
        head.intercept_ = head.intercept_.astype(np.float32)
    vectorizer.stop_words_ = None  # not needed for transform; keeps the artifact small
    return vectorizer, complaint, topic


def topic_training_rows(rows: pd.DataFrame) -> pd.DataFrame:
    """Rows with a topic, plus a seeded sample of social/news rows labelled «Прочее»."""
    social = rows[rows["topic_group"].isna() & rows["source"].str.match(r"^(sentirueval|cedr)")]
    other = social.sample(min(OTHER_ROWS, len(social)), random_state=SEED).assign(topic_group="Прочее")
    return pd.concat([rows[rows["topic_group"].notna()], other])


def describe(train_rows: pd.DataFrame, test_rows: pd.DataFrame, cutoff: pd.Timestamp, sample: int | None,
             scores: dict[str, Any], topic: LogisticRegression, extra: pd.DataFrame | None) -> dict[str, Any]:
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
            "split": "dedup by normalised lemma key, then spb by created_dt (latest 20 % test), others by key hash",
            "spb_cutoff": str(cutoff),
        },
        "labels": {"complaint": [0, 1], "topic_group": [str(c) for c in topic.classes_],
                   "importance": ["normal", "high"]},
        "params": {"vectorizer": {k: str(v) for k, v in VECTORIZER.items()}, "seed": SEED,
                   "seed_weight": SEED_WEIGHT, "extra_weight": EXTRA_WEIGHT,
                   "other_rows": OTHER_ROWS, "class_weight_power": CLASS_WEIGHT_POWER,
                   "complaint_C": COMPLAINT_C, "topic_C": TOPIC_C, "validation_fraction": VALIDATION_FRACTION,
                   "stopwords": sorted(STOPWORDS)},
        "metrics": scores,
    }
