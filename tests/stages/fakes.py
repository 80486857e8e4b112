"""Test doubles for the stages: a deterministic analyzer that can be slowed down."""
from __future__ import annotations

import time

from tsur.records import Analysis


class EchoAnalyzer:
    """Calls everything with 'нет' a complaint about ЖКХ; sleeps `delay` seconds per item."""

    version = "echo-1"

    def __init__(self, delay: float = 0.0):
        self.delay = delay

    def analyze(self, inputs):
        out = []
        for x in inputs:
            if self.delay:
                time.sleep(self.delay)
            complaint = "нет" in x.text
            out.append(Analysis(item_pk=x.item_pk, model_version=self.version, is_complaint=complaint,
                                complaint_proba=0.9 if complaint else 0.1, topic_group="ЖКХ", topic_proba=0.8,
                                municipality=x.home_municipality, reasons=("echo",)))
        return out
