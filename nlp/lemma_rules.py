"""Lemma rules: groups of alternative lemmas or lemma n-grams (`a_b`, `a_b_c`) that must all occur, and vetoing lemmas.

Shared by the importance rules and the fine-topic rules. A cell `нет|отключить;вода|свет` reads
"(нет or отключить) and (вода or свет)". `stray_forms` checks a lexicon word against pymorphy3: the
inflected forms whose lemma is not the word (nor an alternative beside it) would never match.
"""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pandas as pd

# Forms a post does not use: archaic/poetic spelling variants (-ою, -ей for -ее), по-comparatives (померзлее),
# abbreviations, misspellings.
RARE_FORM_TAGS = frozenset({"V-be", "V-en", "V-ie", "V-bi", "V-ey", "V-oy", "V-ej", "V-sh", "Cmp2",
                            "Arch", "Litr", "Erro", "Dist", "Abbr"})
# Proper-name readings of a lexicon word (Люк the name for «люк») are not the word the rule means.
NAME_TAGS = frozenset({"Name", "Surn", "Patr", "Geox", "Orgn", "Trad"})


@dataclass(frozen=True)
class Rule:
    """One lemma rule: groups of alternative lemmas that must all occur, and lemmas that veto it."""

    name: str
    reason: str
    all_of: tuple[frozenset[str], ...]
    none_of: frozenset[str]

    def matches(self, grams: set[str]) -> tuple[str, ...] | None:
        """The matched lemma of each group, or None when the rule does not fire."""
        if grams & self.none_of:
            return None
        hits = []
        for group in self.all_of:
            found = sorted(group & grams)
            if not found:
                return None
            hits.append(found[0])
        return tuple(hits)


def parse_alternatives(cell: object) -> frozenset[str]:
    """'a|b|c_d' -> {'a', 'b', 'c_d'} (empty cell -> empty set)."""
    text = "" if pd.isna(cell) else str(cell)
    return frozenset(w.strip().replace("ё", "е") for w in text.split("|") if w.strip())


def parse_all_of(cell: object) -> tuple[frozenset[str], ...]:
    """'a|b;c' -> ({'a', 'b'}, {'c'}); empty groups are dropped."""
    text = "" if pd.isna(cell) else str(cell)
    return tuple(g for g in (parse_alternatives(part) for part in text.split(";")) if g)


def grams_of(lemma_seq: list[str]) -> set[str]:
    """Lemmas and adjacent lemma bigrams and trigrams joined by '_' ('свет_в_подъезд')."""
    return (set(lemma_seq) | {f"{a}_{b}" for a, b in zip(lemma_seq, lemma_seq[1:])}
            | {f"{a}_{b}_{c}" for a, b, c in zip(lemma_seq, lemma_seq[1:], lemma_seq[2:])})


def lexicon_words(group: frozenset[str]) -> Iterator[tuple[str, str, frozenset[str]]]:
    """(alternative, word, words standing in for it there) for each word of a group, n-gram parts too.

    Example: {'люк', 'люковый', 'открытый_люк'} yields ('люк', 'люк', {'люк', 'люковый'}), ('люковый', …),
    ('открытый_люк', 'открытый', {'открытый'}) and ('открытый_люк', 'люк', {'люк'}).
    """
    for alternative in sorted(group):
        parts = alternative.split("_")
        for i, part in enumerate(parts):
            cover = {other.split("_")[i] for other in group
                     if len(other.split("_")) == len(parts)
                     and all(o == p for j, (o, p) in enumerate(zip(other.split("_"), parts)) if j != i)}
            yield alternative, part, frozenset(cover)


def stray_forms(word: str, cover: frozenset[str]) -> dict[str, list[str]]:
    """Forms of `word` (its pymorphy3 lexemes, and the word itself) whose lemma is not in `cover`, by lemma.

    Example: stray_forms('люк', frozenset({'люк'})) -> {'люковый': ['люков']}
    """
    from nlp.normalize import get_morph, lemma

    forms = {word}
    for parse in get_morph().parse(word):
        if parse.normal_form.replace("ё", "е") == word and not NAME_TAGS & parse.tag.grammemes:
            forms |= {f.word for f in parse.lexeme if not RARE_FORM_TAGS & f.tag.grammemes}
    stray: dict[str, list[str]] = {}
    for form in sorted(forms):
        found = lemma(form)
        if found not in cover:
            stray.setdefault(found, []).append(form.replace("ё", "е"))
    return {k: sorted(set(v)) for k, v in stray.items()}
