"""Fine ИМ topic inside the predicted topic group, by lemma rules (config/topics/topic_rules.csv).

No data set labels the fine topics of social-media posts, so they come from hand-written rules that
name the utilities' topics routing needs (water, heating, power, gas, capital repair, illegal dumps).
A rule applies only inside its own topic group; the first matching line of the file wins. Every topic
must be one of config/routing_topics.csv with the same group, so routing can use it.

Example:
    fine_topic("ЖКХ", grams_of(lemmas("Третий день нет горячей воды")))
    # ('Отсутствие горячей воды', 'fine topic Отсутствие горячей воды (горячий_вода + нет)')
"""
from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from nlp.lemma_rules import Rule, parse_all_of, parse_alternatives

CONFIG = Path(__file__).resolve().parents[1] / "config"
RULES_FILE = CONFIG / "topics" / "topic_rules.csv"
TAXONOMY_FILE = CONFIG / "routing_topics.csv"


@dataclass(frozen=True)
class TopicRule:
    """One line of topic_rules.csv: a fine topic of `topic_group` and the lemma rule that finds it."""

    topic: str
    topic_group: str
    rule: Rule
    line: int


@lru_cache(maxsize=4)
def load_topic_rules(path: Path = RULES_FILE, taxonomy: Path = TAXONOMY_FILE) -> tuple[TopicRule, ...]:
    """Rules in file order; a topic outside the taxonomy or its group raises ValueError naming the line."""
    with open(taxonomy, newline="", encoding="utf-8") as fh:
        groups = {r["topic"]: r["topic_group"] for r in csv.DictReader(fh)}
    rules = []
    with open(path, newline="", encoding="utf-8") as fh:
        for line, row in enumerate(csv.DictReader(fh), start=2):
            topic, group = (row.get("topic") or "").strip(), (row.get("topic_group") or "").strip()
            if groups.get(topic) != group:
                raise ValueError(f"{path}:{line}: topic {topic!r} is not a topic of group {group!r} "
                                 f"in {taxonomy.name}")
            all_of = parse_all_of(row.get("all_of"))
            if not all_of:
                raise ValueError(f"{path}:{line}: all_of is empty")
            rules.append(TopicRule(topic, group, Rule(topic, group, all_of, parse_alternatives(row.get("none_of"))),
                                   line))
    return tuple(rules)


def fine_topic(topic_group: str | None, grams: set[str],
               rules: tuple[TopicRule, ...] | None = None) -> tuple[str | None, str | None]:
    """(topic, reason) of the first rule of `topic_group` that fires on `grams`, else (None, None)."""
    for r in rules if rules is not None else load_topic_rules():
        if r.topic_group != topic_group:
            continue
        hits = r.rule.matches(grams)
        if hits is not None:
            return r.topic, f"fine topic {r.topic} ({' + '.join(hits)})"
    return None, None
