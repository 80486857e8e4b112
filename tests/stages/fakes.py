"""Test doubles for the stages: a deterministic analyzer that can be slowed down."""
from __future__ import annotations

import time

from tsur.records import Analysis


def genre_of(text: str) -> str:
    """notice for an official «Уведомляем …», else complaint when the text says 'нет', else other."""
    if "уведомляем" in text.casefold():
        return "notice"
    return "complaint" if "нет" in text else "other"


class EchoAnalyzer:
    """Calls everything with 'нет' a complaint about ЖКХ (an «Уведомляем …» a notice); sleeps `delay` s per item."""

    version = "echo-1"

    def __init__(self, delay: float = 0.0):
        self.delay = delay

    def analyze(self, inputs):
        out = []
        for x in inputs:
            if self.delay:
                time.sleep(self.delay)
            genre = genre_of(x.text)
            complaint = genre == "complaint"
            out.append(Analysis(item_pk=x.item_pk, model_version=self.version, is_complaint=complaint,
                                complaint_proba=0.9 if complaint else 0.1, topic_group="ЖКХ", topic_proba=0.8,
                                municipality=x.home_municipality, reasons=("echo",), genre=genre))
        return out
