"""Routing rules as data: (topic group/topic × municipality × settlement) → agency, most specific wins.

Precedence: a rule's specificity is (topic level + place level, topic level, place level) with
topic level 2 = topic, 1 = topic group, 0 = any, and place level 3 = settlement, 2 = municipality,
1 = `*` (any known municipality), 0 = any place. The matching rule with the highest specificity wins;
so "topic only" (1, 1, 0) beats "place only" (1, 0, 1), and both lose to topic × place.
Agency `{municipal}` means the municipal administration of the item's municipality; `{triage}` sends
the item to the centre's triage (review) queue.
"""
from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

from routing.errors import RulesError

COLUMNS = ("id", "topic_group", "topic", "municipality", "settlement", "agency", "note")
ANY_MUNICIPALITY = "*"
MUNICIPAL = "{municipal}"
TRIAGE = "{triage}"  # an explicit "the centre decides by hand"
TRIAGE_RULE = "fallback:triage"


def norm(value: str | None) -> str:
    """Comparable form of a topic/place name: no ★, no outer spaces, case-folded."""
    return (value or "").replace("★", "").strip().casefold()


@dataclass(frozen=True)
class Rule:
    """One line of routing_rules.csv."""

    id: str
    line: int
    topic_group: str
    topic: str
    municipality: str
    settlement: str
    agency: str
    note: str = ""

    @property
    def specificity(self) -> tuple[int, int, int]:
        """(topic + place level, topic level, place level): higher wins."""
        topic = 2 if self.topic else 1 if self.topic_group else 0
        place = 3 if self.settlement else 2 if self.municipality not in ("", ANY_MUNICIPALITY) else int(
            self.municipality == ANY_MUNICIPALITY)
        return topic + place, topic, place

    @property
    def keys(self) -> tuple[str, str, str, str]:
        """The normalised match keys (equal keys = a duplicate rule)."""
        return norm(self.topic_group), norm(self.topic), norm(self.municipality), norm(self.settlement)

    def matches(self, topic_group: str | None, topic: str | None, municipality: str | None,
                settlement: str | None) -> bool:
        """True if the rule applies to these analysed values."""
        group, rtopic, rmun, rset = self.keys
        if group and group != norm(topic_group):
            return False
        if rtopic and rtopic != norm(topic):
            return False
        if rmun == ANY_MUNICIPALITY:
            if not municipality:
                return False
        elif rmun and rmun != norm(municipality):
            return False
        return not rset or rset == norm(settlement)


def read_rules(path: Path) -> list[Rule]:
    """Rules from a CSV file; malformed lines raise RulesError naming file and line."""
    try:
        fh = open(path, newline="", encoding="utf-8")
    except OSError as exc:
        raise RulesError(f"{path}: cannot read rules: {exc.strerror}") from None
    with fh:
        reader = csv.DictReader(fh)
        missing = [c for c in COLUMNS[:-1] if c not in (reader.fieldnames or ())]
        if missing:
            raise RulesError(f"{path}:1: missing column(s): {', '.join(missing)}")
        rules, seen = [], {}
        for row in reader:
            rule = _rule_of(path, reader.line_num, row)
            if rule.id in seen:
                raise RulesError(f"{path}:{rule.line}: rule id {rule.id!r} already used on line {seen[rule.id]}")
            seen[rule.id] = rule.line
            rules.append(rule)
    return rules


def _rule_of(path: Path, line: int, row: dict[str, str | None]) -> Rule:
    values = {c: (row.get(c) or "").strip() for c in COLUMNS}
    if None in row:
        raise RulesError(f"{path}:{line}: too many fields (quote values that contain commas)")
    if not values["id"]:
        raise RulesError(f"{path}:{line}: empty rule id")
    if not values["agency"]:
        raise RulesError(f"{path}:{line}: rule {values['id']!r} has no agency")
    if values["municipality"] == "" and values["agency"] == MUNICIPAL:
        raise RulesError(f"{path}:{line}: rule {values['id']!r}: {MUNICIPAL} needs a municipality (or *)")
    return Rule(line=line, **values)


def candidates(rules: list[Rule], topic_group: str | None, topic: str | None, municipality: str | None,
               settlement: str | None) -> list[Rule]:
    """Matching rules, most specific first (ties: earlier line first)."""
    hits = [r for r in rules if r.matches(topic_group, topic, municipality, settlement)]
    return sorted(hits, key=lambda r: (tuple(-s for s in r.specificity), r.line))


def check_rules(policy, known_topics=None, known_municipalities=None, known_settlements=None):
    """See routing.check.check_rules (re-exported here, the contract's home)."""
    from routing.check import check_rules as impl

    return impl(policy, known_topics, known_municipalities, known_settlements)


def replay(session, candidate_policy, limit=None):
    """See routing.replay.replay (re-exported here, the contract's home)."""
    from routing.replay import replay as impl

    return impl(session, candidate_policy, limit)
