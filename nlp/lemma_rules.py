"""Lemma rules: groups of alternative lemmas or lemma n-grams (`a_b`, `a_b_c`) that must all occur, and vetoing lemmas.

Shared by the importance rules and the fine-topic rules. A cell `нет|отключить;вода|свет` reads
"(нет or отключить) and (вода or свет)".
"""
from __future__ import annotations

from dataclasses import dataclass

import pandas as pd


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
