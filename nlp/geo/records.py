"""Records of the geo analyser: places and their names, mentions found in a text, the answer."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Place:
    """One gazetteer place: a settlement, a municipality or a city's internal okrug."""

    id: int
    kind: str
    name: str
    type: str
    municipality: str
    okrug: str
    weight: int


@dataclass(frozen=True)
class Entry:
    """One way to name a place: the place, how (name/variant/alias), cue level, base confidence.

    Cue level 0: found as is; 1: an ordinary word, needs «с.»/«пгт»… or a capital letter;
    2: a person's name (Ленино, Никита), needs a cue or another place of its municipality nearby.
    """

    place: Place
    via: str
    cue: int
    confidence: float


@dataclass(frozen=True)
class GeoMatch:
    """Where a text is about: municipality, settlement, the exact span, confidence 0..1 and why."""

    municipality: str | None
    settlement: str | None
    evidence: str | None
    confidence: float
    reason: str


@dataclass(frozen=True)
class Mention:
    """A gazetteer key found in a text: char span, the places it may name and the clues around it."""

    start: int
    stop: int
    text: str
    entries: tuple[Entry, ...]
    cue: bool  # a settlement word before it: «с.», «пгт», «в селе», «г.»
    support: str  # "sure"; "weak": an ordinary word with a capital; "tentative": needs another place
    street: str | None  # «ул. Киевская» right after a settlement, for the reason
    route: str | None = None  # «Керчь — Симферополь» when the mention is an end of a route name
    homonyms: int = 1  # places of the region named by the same key («Солнечный», «Солнечное»: 3)
