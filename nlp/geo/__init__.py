"""Geo analyser: the municipality and settlement a Russian text names, from a region gazetteer.

Example:
    >>> locate("Опять в Старом Крыму нет воды").settlement
    'Старый Крым'
"""
from __future__ import annotations

import logging
from collections.abc import Iterable

from nlp.geo.errors import GazetteerError
from nlp.geo.gazetteer import Gazetteer, load_gazetteer, use_region
from nlp.geo.matcher import find_mentions
from nlp.geo.records import GeoMatch
from nlp.geo.resolve import answer
from nlp.normalize import Token

__all__ = ["GazetteerError", "Gazetteer", "GeoMatch", "load_gazetteer", "locate", "locate_many", "use_region"]
log = logging.getLogger(__name__)
_warned: set[tuple[str, str]] = set()


def home_of(gaz: Gazetteer, name: str | None) -> str | None:
    """The municipality of a source's home name; an unknown name is ignored (one warning per name)."""
    if not name:
        return None
    try:
        return gaz.municipality_of(name)
    except ValueError as exc:
        if (gaz.region, name) not in _warned:
            _warned.add((gaz.region, name))
            log.warning("%s: the hint is ignored (fix the source's home_municipality)", exc)
        return None


def locate(text: str, home_municipality: str | None = None, region: str | None = None,
           tokens: list[Token] | None = None) -> GeoMatch:
    """Where `text` is about; `home_municipality` (the source's) settles ambiguous names.

    No place in the text gives the home municipality with confidence 0.3 and evidence None; a home
    name the gazetteer does not know is ignored with one warning. `region` defaults to use_region()'s.
    Pass `tokens` (nlp.normalize.tokenize(text)) when the caller already has them.
    """
    if not isinstance(text, str):
        raise TypeError(f"locate: text must be str, got {type(text).__name__}")
    gaz = load_gazetteer(region)
    home = home_of(gaz, home_municipality)
    return answer(find_mentions(text, gaz, tokens), home, home in gaz.urban)


def locate_many(texts: Iterable[str], homes: Iterable[str | None] | None = None,
                region: str | None = None, ner: bool = False) -> list[GeoMatch]:
    """locate() over a batch; `homes` is parallel to `texts` (or None for no home at all).

    `ner=True` checks doubtful mentions with natasha's NER (batched, only texts that have one).
    """
    texts = list(texts)
    homes = [None] * len(texts) if homes is None else list(homes)
    if len(homes) != len(texts):
        raise ValueError(f"locate_many: {len(texts)} texts but {len(homes)} homes")
    if any(not isinstance(text, str) for text in texts):
        raise TypeError("locate_many: every text must be str")
    gaz = load_gazetteer(region)
    homes = [home_of(gaz, home) for home in homes]
    found = [find_mentions(text, gaz) for text in texts]
    if ner:
        found = check_with_ner(texts, found)
    return [answer(mentions, home, home in gaz.urban) for mentions, home in zip(found, homes)]


def check_with_ner(texts: list[str], found: list[list]) -> list[list]:
    """Run the NER check on the texts that have a doubtful mention."""
    from nlp.geo import ner

    doubtful = [i for i, mentions in enumerate(found) if any(map(ner.is_doubtful, mentions))]
    checked = list(found)
    for i, spans in zip(doubtful, ner.entity_spans([texts[i] for i in doubtful])):
        checked[i] = ner.check(found[i], spans)
    return checked
