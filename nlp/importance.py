"""Importance rules (config/topics/importance_rules.csv): high for danger, outages, children at risk, mass events.

The convention is datasets/LABELLING.md (section Importance). A rule (nlp.lemma_rules) fires when every
`;`-separated group of `all_of` has a lemma (or an `a_b` / `a_b_c` lemma n-gram) in the text and nothing of
`none_of` is there; its reason is shown to the operator.
Example: children = (ребенок|детский|…) AND (арматура|стекло|холодно|…): «детская площадка» alone is normal;
outage_light = (нет|без|…) AND свет, not (фонарь|свет_в_подъезд|…).
"""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import pandas as pd

from nlp.lemma_rules import Rule, grams_of, parse_all_of, parse_alternatives

__all__ = ["Rule", "assess", "judge", "load_rules"]

RULES_FILE = Path(__file__).resolve().parents[1] / "config" / "topics" / "importance_rules.csv"


@lru_cache(maxsize=4)
def load_rules(path: Path = RULES_FILE) -> tuple[Rule, ...]:
    """Rules from the CSV file."""
    table = pd.read_csv(path, dtype=str)
    return tuple(Rule(r.rule, r.reason, parse_all_of(r.all_of),
                      parse_alternatives(r.none_of)) for r in table.itertuples(index=False))


def assess(lemma_seq: list[str], rules: tuple[Rule, ...] | None = None) -> tuple[str, tuple[str, ...]]:
    """('high' | 'normal', reasons like 'importance high: угроза жизни или здоровью (обрушение)')."""
    return judge(grams_of(lemma_seq), rules)


def judge(grams: set[str], rules: tuple[Rule, ...] | None = None) -> tuple[str, tuple[str, ...]]:
    """`assess` on lemmas and lemma bigrams already gathered (nlp.lemma_rules.grams_of)."""
    reasons = []
    for rule in rules or load_rules():
        hits = rule.matches(grams)
        if hits is not None:
            reasons.append(f"importance high: {rule.reason} ({' + '.join(hits)})")
    return ("high" if reasons else "normal"), tuple(reasons)
