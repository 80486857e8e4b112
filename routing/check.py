"""`routing check`: unknown agencies, topics, municipalities; unreachable and shadowed rules."""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from routing.policy import Policy
from routing.rules import ANY_MUNICIPALITY, MUNICIPAL, TRIAGE, Rule, norm


@dataclass(frozen=True)
class Problem:
    """One finding about one rule: level is `error` (rule set refused) or `warning`."""

    level: str
    rule: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"line {self.line}: rule {self.rule!r}: {self.message}"


def check_rules(policy: Policy, known_topics: Mapping[str, str] | Iterable[str] | None = None,
                known_municipalities: Iterable[str] | None = None,
                known_settlements: Mapping[str, Iterable[str]] | None = None) -> list[Problem]:
    """All problems of the policy's rules; known_topics maps topic → group (or lists names); settlements are
    checked against the region's gazetteer (policy.settlements) unless known_settlements is given."""
    topics = _topic_index(policy.topics if known_topics is None else known_topics)
    municipalities = {norm(m) for m in (policy.municipalities if known_municipalities is None else known_municipalities)}
    known_settlements = policy.settlements if known_settlements is None else known_settlements
    settlements = None if known_settlements is None else {
        norm(m): {norm(s) for s in names} for m, names in known_settlements.items()}
    problems: list[Problem] = []
    seen: dict[tuple[str, ...], Rule] = {}
    for rule in policy.rules:
        problems += _check_one(rule, policy, topics, municipalities, settlements)
        if rule.keys in seen:
            first = seen[rule.keys]
            problems.append(Problem("error", rule.id, rule.line,
                                    f"shadowed by rule {first.id!r} (line {first.line}): same conditions"))
        else:
            seen[rule.keys] = rule
    return problems


def _topic_index(known: Mapping[str, str] | Iterable[str]) -> dict[str, str | None]:
    if isinstance(known, Mapping):
        return {norm(k): v for k, v in known.items()}
    return {norm(k): None for k in known}


def _check_one(rule: Rule, policy: Policy, topics, municipalities, settlements) -> list[Problem]:
    out: list[Problem] = []

    def add(level: str, message: str) -> None:
        out.append(Problem(level, rule.id, rule.line, message))

    group, topic, municipality, settlement = rule.keys
    if group and group not in topics:
        add("error", f"unknown topic group {rule.topic_group!r}")
    if topic and topic not in topics:
        add("error", f"unknown topic {rule.topic!r}")
    elif topic and group and topics.get(topic) and norm(topics[topic]) != group:
        add("error", f"unreachable: topic {rule.topic!r} belongs to group {topics[topic]!r}, not {rule.topic_group!r}")
    if municipality and municipality != ANY_MUNICIPALITY and municipality not in municipalities:
        add("error", f"unknown municipality {rule.municipality!r}")
    if settlement and municipality in ("", ANY_MUNICIPALITY):
        add("error", "unreachable: a settlement needs an explicit municipality")
    elif settlement and settlements is not None and settlement not in settlements.get(municipality, ()):
        add("error", f"unreachable: no settlement {rule.settlement!r} in {rule.municipality!r}")
    out += _check_agency(rule, policy, municipalities)
    return out


def _check_agency(rule: Rule, policy: Policy, municipalities) -> list[Problem]:
    if rule.agency == TRIAGE:
        return []
    if rule.agency != MUNICIPAL:
        if policy.agency(rule.agency) is None:
            return [Problem("error", rule.id, rule.line, f"unknown agency {rule.agency!r}")]
        return []
    if rule.municipality != ANY_MUNICIPALITY:
        if policy.municipal_admin(rule.municipality) is None:
            return [Problem("error", rule.id, rule.line, f"no municipal administration for {rule.municipality!r}")]
        return []
    known = {policy.municipal_admin(m) and m for m in policy.municipalities} - {None}
    explicit = {norm(r.municipality) for r in policy.rules if not r.topic_group and not r.topic and not r.settlement}
    lacking = [m for m in policy.municipalities if m not in known and norm(m) not in explicit]
    if lacking:
        return [Problem("warning", rule.id, rule.line,
                        f"{MUNICIPAL} falls through to less specific rules in: {', '.join(lacking)}")]
    return []
