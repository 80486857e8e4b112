"""Batched analysis: complaint?, topic group, place (nlp.geo), importance, with probabilities and reasons.

Importance rules run on complaints only (a news post about a school is not urgent); `topic` (the fine ИМ
topic) comes from the lemma rules of nlp.topics inside the predicted group, or stays None.

Example:
    analyzer = load_analyzer()                      # models/ACTIVE
    [a] = analyzer.analyze([AnalysisInput(1, "Третий день нет воды в Саках", "Сакский район")])
    a.topic_group, a.importance, a.reasons          # 'ЖКХ', 'high', ('complaint 0.97: …', …)
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from nlp.artifacts import load_bundle
from nlp.features import model_text
from nlp.importance import judge
from nlp.lemma_rules import grams_of
from nlp.normalize import lemmas
from nlp.registry import active_version, resolve
from nlp.topics import fine_topic
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
    vectorizer: Any
    complaint: Any
    topic: Any
    meta: dict[str, Any] = field(default_factory=dict)
    use_geo: bool = True

    def __post_init__(self) -> None:
        self.terms = np.asarray(self.vectorizer.get_feature_names_out())

    def analyze(self, inputs: Sequence[AnalysisInput]) -> list[Analysis]:
        """Analyses parallel to `inputs`, vectorising the whole batch at once."""
        if not inputs:
            return []
        seqs = [lemmas(item.text or "") for item in inputs]
        matrix = self.vectorizer.transform([model_text(s) for s in seqs]).tocsr()
        p_complaint = self.complaint.predict_proba(matrix)[:, 1]
        p_topic = self.topic.predict_proba(matrix)
        best = p_topic.argmax(axis=1)
        ptr = matrix.indptr
        return [self.compose(item, seq, (matrix.indices[ptr[i]:ptr[i + 1]], matrix.data[ptr[i]:ptr[i + 1]]),
                             float(p_complaint[i]), int(best[i]), float(p_topic[i, best[i]]))
                for i, (item, seq) in enumerate(zip(inputs, seqs))]

    def compose(self, item: AnalysisInput, seq: list[str], row: tuple[np.ndarray, np.ndarray],
                p_complaint: float, best: int, p_topic: float) -> Analysis:
        """One Analysis with reasons from top features, the fine-topic rule, the geo match and importance rules."""
        is_complaint = p_complaint >= COMPLAINT_THRESHOLD
        group = str(self.topic.classes_[best])
        complaint_coef = self.complaint.coef_[0] * (1 if is_complaint else -1)
        reasons = [f"complaint {p_complaint:.2f}: {self.explain(row, complaint_coef)}",
                   f"topic {group} {p_topic:.2f}: {self.explain(row, self.topic.coef_[best])}"]
        grams = grams_of(seq)
        topic, why_topic = fine_topic(group, grams)
        if why_topic:
            reasons.append(why_topic)
        geo = self.locate(item)
        if geo is not None and geo.reason:
            reasons.append(f"geo: {geo.reason}")
        importance, why = judge(grams) if is_complaint else ("normal", ())
        reasons.extend(why)
        return Analysis(
            item_pk=item.item_pk, model_version=self.version, is_complaint=bool(is_complaint),
            complaint_proba=round(p_complaint, 4), topic_group=group, topic_proba=round(p_topic, 4), topic=topic,
            municipality=getattr(geo, "municipality", None), settlement=getattr(geo, "settlement", None),
            geo_evidence=getattr(geo, "evidence", None), geo_confidence=float(getattr(geo, "confidence", 0.0)),
            importance=importance, reasons=tuple(reasons))

    def explain(self, row: tuple[np.ndarray, np.ndarray], coef: np.ndarray) -> str:
        """The terms of a (column indices, tf-idf values) row that pushed most towards the class of `coef`."""
        indices, values = row
        if not len(indices):
            return "no known words"
        weights = values * coef[indices]
        order = np.argsort(-weights)[:TOP_FEATURES]
        terms = [self.terms[indices[j]] for j in order if weights[j] > 0]
        return ", ".join(terms) if terms else "no supporting words"

    def locate(self, item: AnalysisInput):
        """The geo match of one item, or None when geo is off or unavailable."""
        if not self.use_geo or _locate is None:
            return None
        return _locate(item.text or "", item.home_municipality)


def load_analyzer(models_dir: Path | None = None, version: str | None = None, use_geo: bool = True) -> Analyzer:
    """The Analyzer of `version` (default: the one in models/ACTIVE) after the artifact checks."""
    root = resolve(models_dir)
    version = version or active_version(root)
    estimators, meta = load_bundle(root / version)
    return Analyzer(version=version, vectorizer=estimators["vectorizer"], complaint=estimators["complaint"],
                    topic=estimators["topic"], meta=meta, use_geo=use_geo)
