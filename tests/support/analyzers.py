"""Deterministic analyzers for multi-process tests: fast, confident enough to route, optionally slow."""
from __future__ import annotations

import time

from tsur.records import Analysis

TOPICS = (("воды", "ЖКХ"), ("яма", "Дороги"), ("мусор", "ЖКХ"), ("крыши", "ЖКХ"))


class RoutableAnalyzer:
    """Complaint when the text says 'нет' (a notice when it says «Уведомляем»: an official announcement, even
    with 'нет' in it); topic by keyword; the place is the source's home municipality.

    Confidences clear the routing thresholds, so complaints become tickets (and outbox rows).
    """

    version = "routable-1"

    def __init__(self, delay: float = 0.0):
        self.delay = delay

    def analyze(self, inputs):
        if self.delay:
            time.sleep(self.delay * len(inputs))
        return [self.analyze_one(x) for x in inputs]

    def analyze_one(self, x) -> Analysis:
        text = x.text.lower()
        genre = "notice" if "уведомляем" in text else "complaint" if "нет" in text else "other"
        complaint = genre == "complaint"
        group = next((g for word, g in TOPICS if word in text), "Благоустройство")
        return Analysis(item_pk=x.item_pk, model_version=self.version, is_complaint=complaint,
                        complaint_proba=0.9 if complaint else 0.1, topic_group=group, topic_proba=0.8,
                        municipality=x.home_municipality, geo_confidence=0.9 if x.home_municipality else 0.0,
                        geo_evidence=x.home_municipality, importance="normal", reasons=("routable test analyzer",),
                        genre=genre)
