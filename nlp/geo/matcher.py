"""Find gazetteer names in a text: longest lemma n-gram first, with cue, capital and street guards.

Example:
    >>> [m.text for m in find_mentions("Опять в Старом Крыму нет воды", load_gazetteer())]
    ['Старом Крыму']
"""
from __future__ import annotations

import re

from nlp.geo.forms import key_lemma
from nlp.geo.gazetteer import Entry, Gazetteer
from nlp.geo.records import Mention
from nlp.normalize import Token, tokenize

# Settlement-type words that make a common word a place name: «с. Мирное», «в селе Победа».
CUES = frozenset({"с", "село", "пгт", "поселок", "пос", "п", "г", "город", "деревня", "д", "смт", "поселение"})
# Street words: «ул. Севастопольская» and «Ялтинская улица» are streets, not places.
STREET_BEFORE = frozenset({"ул", "улица", "пр", "проспект", "пр-т", "пер", "переулок", "бульвар", "б-р",
                           "шоссе", "пл", "площадь", "наб", "набережная", "проезд", "спуск", "тупик"})
STREET_AFTER = frozenset({"улица", "ул", "проспект", "переулок", "шоссе", "бульвар", "площадь", "проезд",
                          "спуск", "трасса"})
SENTENCE_END = frozenset({".", "!", "?", "…", "!!", "?!", "..."})
QUOTES = frozenset({"«", '"', "“", "„"})
_WORD = re.compile(r"\w")


def lemmas_of(tokens: list[Token]) -> list[str]:
    """Key lemmas of word tokens, punctuation kept as is (it never matches a key)."""
    return [key_lemma(t.text) if _WORD.match(t.text) else t.text for t in tokens]


def previous_word(lemmas: list[str], i: int) -> str:
    """The lemma before position i, skipping one abbreviation dot ('с', '.', 'Мирное' -> 'с')."""
    j = i - 1
    if j >= 0 and lemmas[j] == ".":
        j -= 1
    return lemmas[j] if j >= 0 else ""


def starts_sentence(text: str, tokens: list[Token], i: int) -> bool:
    """True at the start of the text, after . ! ? or at a new line."""
    if i == 0:
        return True
    prev = tokens[i - 1]
    return prev.text in SENTENCE_END or "\n" in text[prev.stop:tokens[i].start]


def has_capital(text: str, tokens: list[Token], i: int) -> bool:
    """A capital letter that is a clue: not all caps, not the first word of a sentence."""
    word = tokens[i].text
    return word[:1].isupper() and not word.isupper() and not starts_sentence(text, tokens, i)


def is_street(lemmas: list[str], i: int, stop: int) -> bool:
    """A street name: «ул. Киевская», «Севастопольская улица»."""
    after = lemmas[stop] if stop < len(lemmas) else ""
    return previous_word(lemmas, i) in STREET_BEFORE or after in STREET_AFTER


def street_after(text: str, tokens: list[Token], lemmas: list[str], stop: int) -> str | None:
    """«ул. Киевская» following a place («Симферополь, ул. Киевская»), else None."""
    j = stop + 1 if stop < len(lemmas) and lemmas[stop] == "," else stop
    if j >= len(lemmas) or lemmas[j] not in STREET_BEFORE:
        return None
    k = j + 2 if j + 1 < len(lemmas) and lemmas[j + 1] == "." else j + 1
    if k >= len(tokens) or not tokens[k].text[:1].isupper():
        return None
    return text[tokens[j].start:tokens[k].stop]


def usable(entries: tuple[Entry, ...], cue: bool, capital: bool) -> tuple[tuple[Entry, ...], bool]:
    """Entries allowed here and whether they rest on a capital letter alone."""
    plain = tuple(e for e in entries if not e.cue)
    if cue or plain and len(plain) == len(entries):
        return entries, False
    if capital:
        return entries, not plain
    return plain, False


def match_at(text: str, tokens: list[Token], lemmas: list[str], i: int, gaz: Gazetteer) -> Mention | None:
    """The longest acceptable mention starting at token i."""
    longest = min(gaz.longest.get(lemmas[i], 0), len(lemmas) - i)
    for n in range(longest, 0, -1):
        entries = gaz.index.get(tuple(lemmas[i:i + n]))
        if not entries or is_street(lemmas, i, i + n):
            continue
        cue = previous_word(lemmas, i) in CUES
        if not cue and i > 0 and tokens[i - 1].text in QUOTES:
            continue  # «Победа», "Дружба": a shop or a company, not the village
        entries, weak = usable(entries, cue, has_capital(text, tokens, i))
        if entries:
            start, stop = tokens[i].start, tokens[i + n - 1].stop
            street = street_after(text, tokens, lemmas, i + n)
            return Mention(start, stop, text[start:stop], entries, cue, weak, street)
    return None


def find_mentions(text: str, gaz: Gazetteer, tokens: list[Token] | None = None) -> list[Mention]:
    """All non-overlapping place mentions of a text, left to right."""
    tokens = tokenize(text) if tokens is None else tokens
    lemmas = lemmas_of(tokens)
    mentions: list[Mention] = []
    i = 0
    while i < len(tokens):
        mention = match_at(text, tokens, lemmas, i, gaz) if lemmas[i] in gaz.longest else None
        if mention is None:
            i += 1
            continue
        mentions.append(mention)
        while i < len(tokens) and tokens[i].start < mention.stop:
            i += 1
    return mentions
