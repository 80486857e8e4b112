"""Importance rules (config/topics/importance_rules.csv): high for danger, utility outages, children, mass events.

A rule fires when every `;`-separated group of `all_of` has a lemma (or `a_b` lemma bigram) in the text
and nothing of `none_of` is there. Example: outage = (нет|отключить|…) AND (вода|свет|…), not (фонарь|подъезд|…).
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import pandas as pd

RULES_FILE = Path(__file__).resolve().parents[1] / "config" / "topics" / "importance_rules.csv"


@dataclass(frozen=True)
class Rule:
    """One importance rule: groups of alternative lemmas that must all occur, and lemmas that veto it."""

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


@lru_cache(maxsize=4)
def load_rules(path: Path = RULES_FILE) -> tuple[Rule, ...]:
    """Rules from the CSV file."""
    table = pd.read_csv(path, dtype=str)
    return tuple(Rule(r.rule, r.reason, tuple(parse_alternatives(g) for g in r.all_of.split(";")),
                      parse_alternatives(r.none_of)) for r in table.itertuples(index=False))


def grams_of(lemma_seq: list[str]) -> set[str]:
    """Lemmas and adjacent lemma bigrams joined by '_'."""
    return set(lemma_seq) | {f"{a}_{b}" for a, b in zip(lemma_seq, lemma_seq[1:])}


def assess(lemma_seq: list[str], rules: tuple[Rule, ...] | None = None) -> tuple[str, tuple[str, ...]]:
    """('high' | 'normal', reasons like 'importance high: угроза жизни или здоровью (обрушение)')."""
    grams = grams_of(lemma_seq)
    reasons = []
    for rule in rules or load_rules():
        hits = rule.matches(grams)
        if hits is not None:
            reasons.append(f"importance high: {rule.reason} ({' + '.join(hits)})")
    return ("high" if reasons else "normal"), tuple(reasons)
