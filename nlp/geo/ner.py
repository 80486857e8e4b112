"""Optional natasha/slovnet NER check of doubtful mentions (capital-letter-only or context-only).

Off the hot path: only texts with such a mention are tagged (~1-3 % of posts; the tagger runs at
~1,400 texts/s batched and loads in ~2.5 s, once, from the model files bundled with natasha).
A PER or ORG span drops a capital-only mention («ТК Порт Находка»). LOC spans are not trusted to
promote a mention: slovnet tags streets without «ул.» as LOC («на Войкова» → Войково), which cost
3 of 170 golden cases when tried. Measured on the golden tables the check is neutral to slightly
harmful (it drops «В Научном» as ORG), so it is off by default.
"""
from __future__ import annotations

from functools import lru_cache

from nlp.geo.records import Mention

Span = tuple[int, int, str]


@lru_cache(maxsize=1)
def get_tagger():
    """natasha's news NER tagger (navec embeddings + slovnet), loaded once."""
    from natasha import NewsEmbedding, NewsNERTagger

    return NewsNERTagger(NewsEmbedding())


def entity_spans(texts: list[str]) -> list[list[Span]]:
    """(start, stop, type) of the PER/LOC/ORG spans of each text, batched."""
    return [[(s.start, s.stop, s.type) for s in markup.spans] for markup in get_tagger().map(texts)]


def is_doubtful(mention: Mention) -> bool:
    """A mention that rests on a capital letter or on context only."""
    return mention.support != "sure"


def overlapping(mention: Mention, spans: list[Span]) -> str | None:
    """The type of the entity span overlapping a mention, if any."""
    return next((kind for start, stop, kind in spans if start < mention.stop and mention.start < stop), None)


def check(mentions: list[Mention], spans: list[Span]) -> list[Mention]:
    """Mentions after the NER check: a PER/ORG span drops a capital-only one."""
    checked = []
    for mention in mentions:
        if mention.support == "weak" and overlapping(mention, spans) in ("PER", "ORG"):
            continue
        checked.append(mention)
    return checked
