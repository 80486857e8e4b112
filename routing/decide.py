"""Pure routing decision for one analysis: ignore, review, or route to an agency by the rules."""
from __future__ import annotations

from dataclasses import dataclass, field

from routing.policy import Policy
from routing.rules import MUNICIPAL, TRIAGE, TRIAGE_RULE, candidates, norm

NOTICE_RULE = "notice"


@dataclass(frozen=True)
class Verdict:
    """What the rules say before incidents are considered: outcome is route | review | ignore."""

    outcome: str
    rule: str
    reason: str
    agency: str | None = None
    route_rule: str | None = None  # the routing rule that chose the agency, also for reviews
    scores: dict[str, float] = field(default_factory=dict)


def scores_of(analysis) -> dict[str, float]:
    """The probabilities behind a decision, as stored in decisions.scores."""
    return {"complaint_proba": round(float(analysis.complaint_proba), 4),
            "topic_proba": round(float(analysis.topic_proba or 0.0), 4),
            "geo_confidence": round(float(analysis.geo_confidence or 0.0), 4)}


def route(policy: Policy, topic_group: str | None, topic: str | None, municipality: str | None,
          settlement: str | None) -> tuple[str | None, str, str]:
    """(agency name or None for triage, rule id, reason) by the most specific matching rule."""
    group = topic_group if norm(topic_group) in policy.topics else None
    for rule in candidates(list(policy.rules), group, topic, municipality, settlement):
        if rule.agency == TRIAGE:
            return None, rule.id, f"rule {rule.id}: to the triage queue ({rule.note or 'by rule'})"
        agency = policy.municipal_admin(municipality) if rule.agency == MUNICIPAL else policy.agency(rule.agency)
        if agency is not None:
            return agency.name, rule.id, f"rule {rule.id} (line {rule.line}) → {agency.name}"
    return None, TRIAGE_RULE, "no rule matches topic and place: the centre's triage queue"


def conflicts(policy: Policy, analysis) -> list[str]:
    """Signals that contradict each other (each one a short phrase)."""
    found = []
    if bool(analysis.is_complaint) != (analysis.complaint_proba >= policy.thresholds.complaint_ignore):
        found.append(f"is_complaint={analysis.is_complaint} but complaint_proba={analysis.complaint_proba:.2f}")
    known_group = policy.topics.get(norm(analysis.topic)) if analysis.topic else None
    if known_group and analysis.topic_group and norm(known_group) != norm(analysis.topic_group):
        found.append(f"topic {analysis.topic!r} is in group {known_group!r}, not {analysis.topic_group!r}")
    if analysis.importance == "high" and analysis.complaint_proba < policy.thresholds.complaint_ignore:
        found.append(f"importance high but complaint_proba {analysis.complaint_proba:.2f}")
    found += [str(r) for r in (analysis.reasons or ()) if str(r).startswith("conflict")]
    return found


def is_notice(analysis) -> bool:
    """An official announcement (outage, works, an answer): counted in statistics, never a ticket or a review."""
    return getattr(analysis, "genre", None) == "notice"


def decide(policy: Policy, analysis) -> Verdict:
    """The verdict for one analysis (an AnalysisRow or tsur.records.Analysis); genre None (an analysis made before
    genres) is decided on is_complaint and the probabilities alone."""
    t, scores = policy.thresholds, scores_of(analysis)
    if is_notice(analysis):
        return Verdict("ignore", NOTICE_RULE, f"official notice (complaint_proba {analysis.complaint_proba:.2f}): "
                       "counted in statistics, not a complaint", scores=scores)
    if analysis.complaint_proba < t.complaint_ignore and not analysis.is_complaint and analysis.importance != "high":
        return Verdict("ignore", "not-complaint", f"complaint_proba {analysis.complaint_proba:.2f} < "
                       f"{t.complaint_ignore}", scores=scores)
    agency, rule, reason = route(policy, analysis.topic_group, analysis.topic, analysis.municipality,
                                 analysis.settlement)
    why = _review_reasons(policy, analysis)
    if agency is None:
        why.append(reason)
    if why:
        suggestion = [] if agency is None else [f"rules suggest {agency} (rule {rule})"]
        return Verdict("review", "review:" + ("triage" if agency is None else "confidence"),
                       "; ".join(why + suggestion), agency, rule, scores)
    return Verdict("route", rule, reason, agency, rule, scores)


def _review_reasons(policy: Policy, analysis) -> list[str]:
    t, why = policy.thresholds, []
    if analysis.complaint_proba < t.complaint_review:
        why.append(f"complaint_proba {analysis.complaint_proba:.2f} < {t.complaint_review}")
    if not analysis.municipality:
        why.append("no place found")
    elif (analysis.geo_confidence or 0.0) < t.geo:
        why.append(f"geo_confidence {analysis.geo_confidence:.2f} < {t.geo}")
    threshold = t.for_topic(analysis.topic_group)
    if analysis.topic_group and (analysis.topic_proba or 0.0) < threshold:
        why.append(f"topic_proba {analysis.topic_proba:.2f} < {threshold} for {analysis.topic_group}")
    return why + conflicts(policy, analysis)
