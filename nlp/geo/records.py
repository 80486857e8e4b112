"""Records of the geo analyser: the answer (GeoMatch) and a place found in the text (Mention)."""
from __future__ import annotations

from dataclasses import dataclass

from nlp.geo.gazetteer import Entry


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
