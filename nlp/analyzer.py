"""Batched analysis: genre (complaint / notice / other), topic group, place (nlp.geo), importance, with
probabilities and reasons.

The genre head reads the text and where it stands (AnalysisInput.kind, .by_source, .source_kind: a
госпаблик's own post speaks for the authority, a comment is a visitor's): a post is a complaint when
P(complaint) ≥ 0.5, else the likelier of notice and other. Importance rules run on complaints and notices
(an emergency notice is high; a news item about a school is not urgent); `topic` (the fine ИМ topic) comes
from the lemma rules of nlp.topics inside the predicted group, or stays None.

Example:
    analyzer = load_analyzer()                      # models/ACTIVE
    [a] = analyzer.analyze([AnalysisInput(1, "Третий день нет воды в Саках", "Сакский район")])
    a.genre, a.topic_group, a.importance, a.reasons   # 'complaint', 'ЖКХ', 'high', ('complaint 0.97: …', …)
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from nlp.artifacts import load_bundle
from nlp.features import featurize, structure_tokens
from nlp.importance import judge
from nlp.lemma_rules import grams_of
from nlp.registry import active_version, resolve
from nlp.topics import fine_topic
from tsur.limits import MAX_TEXT_CHARS, cap_text
from tsur.records import Analysis, AnalysisInput

try:  # the geo analyser lives in nlp.geo (another module owner); analysis works without it
    from nlp.geo import locate as _locate
except ImportError:  # pragma: no cover - only when nlp.geo is absent
    _locate = None

COMPLAINT_THRESHOLD = 0.5
TOP_FEATURES = 3


@dataclass
class Analyzer:
    """The loaded models of one version; `analyze` a batch at once."""

    version: str
    vectorizer: Any  # topic text
    genre_vectorizer: Any  # genre text
    genre: Any
    topic: Any
    meta: dict[str, Any] = field(default_factory=dict)
    use_geo: bool = True
    max_text_chars: int = MAX_TEXT_CHARS  # longer texts (stored before the collection cap) are read cut

    def __post_init__(self) -> None:
        self.terms = np.asarray(self.vectorizer.get_feature_names_out())
        self.genre_terms = np.asarray(self.genre_vectorizer.get_feature_names_out())
        self.genres = [str(c) for c in self.genre.classes_]
        self.i_complaint = self.genres.index("complaint")

    @classmethod
    def from_heads(cls, heads, version: str = "unsaved", use_geo: bool = True) -> Analyzer:
        """An analyzer over freshly fitted heads (nlp.training.Heads), e.g. of a leave-one-source-out run."""
        return cls(version=version, vectorizer=heads.vectorizer, genre_vectorizer=heads.genre_vectorizer,
                   genre=heads.genre, topic=heads.topic, use_geo=use_geo)

    def probabilities(self, inputs: Sequence[AnalysisInput]) -> tuple[list, np.ndarray, np.ndarray, Any, Any]:
        """(features, genre probabilities, topic probabilities, genre matrix, topic matrix) of a batch."""
        feats = [featurize(item.text or "", structure_tokens(item.kind, item.by_source, item.source_kind))
                 for item in inputs]
        topic_m = self.vectorizer.transform([f.topic_text for f in feats]).tocsr()
        genre_m = self.genre_vectorizer.transform([f.genre_text for f in feats]).tocsr()
        return feats, self.genre.predict_proba(genre_m), self.topic.predict_proba(topic_m), genre_m, topic_m

    def analyze(self, inputs: Sequence[AnalysisInput]) -> list[Analysis]:
        """Analyses parallel to `inputs`, vectorising the whole batch at once."""
        if not inputs:
            return []
        inputs = [self.capped(item) for item in inputs]
        feats, p_genre, p_topic, genre_m, topic_m = self.probabilities(inputs)
        best = p_topic.argmax(axis=1)
        return [self.compose(item, feats[i].lemmas, _row(topic_m, i), _row(genre_m, i), p_genre[i], int(best[i]),
                             float(p_topic[i, best[i]]))
                for i, item in enumerate(inputs)]

    def capped(self, item: AnalysisInput) -> AnalysisInput:
        """The input with its text cut at max_text_chars (tsur.limits.cap_text), as collection cuts it."""
        text = cap_text(item.text or "", self.max_text_chars)
        return item if text is item.text else replace(item, text=text)

    def genre_of(self, p_genre: np.ndarray) -> str:
        """complaint when P(complaint) ≥ COMPLAINT_THRESHOLD, else the likelier of the other genres."""
        if p_genre[self.i_complaint] >= COMPLAINT_THRESHOLD:
            return "complaint"
        others = [(p, g) for g, p in zip(self.genres, p_genre) if g != "complaint"]
        return max(others)[1]

    def compose(self, item: AnalysisInput, seq: list[str], topic_row, genre_row, p_genre: np.ndarray, best: int,
                p_topic: float) -> Analysis:
        """One Analysis with reasons from top features, the fine-topic rule, the geo match and importance rules."""
        genre = self.genre_of(p_genre)
        p_complaint = float(p_genre[self.i_complaint])
        group = str(self.topic.classes_[best])
        others = ", ".join(f"{g} {p:.2f}" for g, p in zip(self.genres, p_genre) if g != genre)
        reasons = [f"{genre} {float(p_genre[self.genres.index(genre)]):.2f} ({others}): "
                   f"{self.explain(genre_row, class_coef(self.genre, self.genres.index(genre)), self.genre_terms)}",
                   f"topic {group} {p_topic:.2f}: {self.explain(topic_row, class_coef(self.topic, best), self.terms)}"]
        grams = grams_of(seq)
        topic, why_topic = fine_topic(group, grams)
        if why_topic:
            reasons.append(why_topic)
        geo = self.locate(item)
        if geo is not None and geo.reason:
            reasons.append(f"geo: {geo.reason}")
        importance, why = judge(grams) if genre != "other" else ("normal", ())
        reasons.extend(why)
        return Analysis(
            item_pk=item.item_pk, model_version=self.version, is_complaint=genre == "complaint",
            complaint_proba=round(p_complaint, 4), topic_group=group, topic_proba=round(p_topic, 4), topic=topic,
            municipality=getattr(geo, "municipality", None), settlement=getattr(geo, "settlement", None),
            geo_evidence=getattr(geo, "evidence", None), geo_confidence=float(getattr(geo, "confidence", 0.0)),
            importance=importance, reasons=tuple(reasons), genre=genre)

    @staticmethod
    def explain(row: tuple[np.ndarray, np.ndarray], coef: np.ndarray, terms: np.ndarray) -> str:
        """The terms of a (column indices, tf-idf values) row that pushed most towards the class of `coef`."""
        indices, values = row
        if not len(indices):
            return "no known words"
        weights = values * coef[indices]
        order = np.argsort(-weights)[:TOP_FEATURES]
        found = [terms[indices[j]] for j in order if weights[j] > 0]
        return ", ".join(found) if found else "no supporting words"

    def locate(self, item: AnalysisInput):
        """The geo match of one item, or None when geo is off or unavailable."""
        if not self.use_geo or _locate is None:
            return None
        return _locate(item.text or "", item.home_municipality)


def class_coef(model, i: int) -> np.ndarray:
    """The coefficients pushing towards class i (a two-class model keeps one row: for class 1, minus it for 0)."""
    if model.coef_.shape[0] == 1:
        return model.coef_[0] if i == 1 else -model.coef_[0]
    return model.coef_[i]


def _row(matrix, i: int) -> tuple[np.ndarray, np.ndarray]:
    ptr = matrix.indptr
    return matrix.indices[ptr[i]:ptr[i + 1]], matrix.data[ptr[i]:ptr[i + 1]]


def load_analyzer(models_dir: Path | None = None, version: str | None = None, use_geo: bool = True,
                  max_text_chars: int = MAX_TEXT_CHARS) -> Analyzer:
    """The Analyzer of `version` (default: the one in models/ACTIVE) after the artifact checks."""
    root = resolve(models_dir)
    version = version or active_version(root)
    estimators, meta = load_bundle(root / version)
    return Analyzer(version=version, vectorizer=estimators["vectorizer"],
                    genre_vectorizer=estimators["genre_vectorizer"], genre=estimators["genre"],
                    topic=estimators["topic"], meta=meta, use_geo=use_geo, max_text_chars=max_text_chars)
