"""Frozen records that flow one way between the stages.

sources -> collectors -> RawItem -> nlp -> Analysis -> routing -> Decision -> Ticket
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

PLATFORMS = ("vk", "tg", "web", "replay")
IMPORTANCE = ("normal", "high")
GENRES = ("complaint", "notice", "other")  # notice: an official announcement (outage, works, answer), not a complaint
OUTCOMES = ("create", "attach", "review", "ignore")


@dataclass(frozen=True)
class RawItem:
    """One post, comment or article as a collector saw it.

    `source` is the source key (`vk:wall:-123`, `tg:channel:name`, `web:https://…`);
    `item_id` is unique within the source; `parent_id` is the post a comment belongs to.
    `published_at` is timezone-aware UTC; `author` is already pseudonymised.
    """

    platform: str
    source: str
    item_id: str
    published_at: datetime
    text: str
    kind: str = "post"  # post | comment | article
    parent_id: str | None = None
    url: str | None = None
    author: str | None = None
    raw: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)


@dataclass(frozen=True)
class Quarantined:
    """A record a collector could not adapt: kept with the reason, never silently dropped."""

    source: str
    reason: str
    raw: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)


@dataclass(frozen=True)
class Page:
    """A batch of items and the cursor that becomes valid once the batch is stored."""

    items: tuple[RawItem, ...]
    cursor: dict[str, Any] | None
    quarantined: tuple[Quarantined, ...] = ()
    requests: int = 0  # API requests this page cost (for run stats)
    waits: float = 0.0  # seconds spent waiting on rate limits


@dataclass(frozen=True)
class AnalysisInput:
    """What the analysis stage hands the NLP: stored item id, text and the source's context."""

    item_pk: int
    text: str
    home_municipality: str | None = None
    source_kind: str | None = None  # госпаблик | community | media | web
    kind: str | None = None  # post | comment | article (the item's kind)
    by_source: bool | None = None  # written by the page/channel itself (a госпаблик's own post), not a visitor


@dataclass(frozen=True)
class Analysis:
    """What the NLP concluded about one item, with probabilities and reasons."""

    item_pk: int
    model_version: str
    is_complaint: bool
    complaint_proba: float
    topic_group: str | None
    topic_proba: float
    topic: str | None = None
    municipality: str | None = None
    settlement: str | None = None
    geo_evidence: str | None = None  # the span of text that named the place
    geo_confidence: float = 0.0
    importance: str = "normal"
    reasons: tuple[str, ...] = ()
    genre: str | None = None  # complaint | notice | other (None: an analysis made before genres existed)


@dataclass(frozen=True)
class Decision:
    """What routing decided for one analysed item and why."""

    item_pk: int
    outcome: str  # create | attach | review | ignore
    rule: str  # id of the rule or check that fired
    reason: str
    agency: str | None = None
    ticket_id: int | None = None
    scores: dict[str, float] = field(default_factory=dict, compare=False, hash=False)
    route_rule: str | None = None  # the routing rule behind the agency, also for reviews
