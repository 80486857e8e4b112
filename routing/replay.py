"""`routing replay`: re-decide stored history with a candidate policy and report what would change (no writes)."""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlalchemy.orm import Session

from routing.decide import decide
from routing.incidents import REPOST, THREAD
from routing.policy import Policy
from storage.tables import AnalysisRow
from storage.tables import Decision as DecisionRow

EXAMPLES_PER_CHANGE = 3
ROUTED = ("create", "attach")


@dataclass(frozen=True)
class Change:
    """One item whose routing would change."""

    item_pk: int
    old_outcome: str
    old_agency: str | None
    old_rule: str
    new_outcome: str
    new_agency: str | None
    new_rule: str


@dataclass
class ReplayReport:
    """What a candidate policy would change, by (old agency → new agency), with examples."""

    rules_version: str
    total: int = 0
    changed: int = 0
    moves: Counter = field(default_factory=Counter)
    examples: dict[tuple[str, str], list[Change]] = field(default_factory=dict)

    def lines(self) -> list[str]:
        """A printable summary."""
        out = [f"candidate {self.rules_version}: {self.changed} of {self.total} decisions would change"]
        for (old, new), count in self.moves.most_common():
            out.append(f"  {count:6d}  {old}  →  {new}")
            out += [f"          item {c.item_pk}: {c.old_rule} → {c.new_rule}" for c in self.examples[(old, new)]]
        return out


def label(outcome: str, agency: str | None) -> str:
    """How an outcome reads in the report."""
    if outcome in ROUTED or outcome == "route":
        return agency or "(triage)"
    return f"[{outcome}]" + (f" {agency}" if outcome == "review" and agency else "")


def joins_its_source_again(stored: DecisionRow, analysis: AnalysisRow, outcome: str) -> bool:
    """A comment or repost that joined its source post's ticket while it alone would go to review joins it
    again under the candidate (routing.stage.join_source): the incident, not the item, says what and where."""
    return (stored.outcome == "attach" and stored.rule in (THREAD, REPOST) and outcome == "review"
            and (bool(analysis.is_complaint) or analysis.importance == "high"))


def replay(session: Session, candidate: Policy, limit: int | None = None) -> ReplayReport:
    """Re-decide the latest decision of each item with `candidate`; incidents are not re-evaluated."""
    latest = sa.select(sa.func.max(DecisionRow.id)).group_by(DecisionRow.item_pk)
    query = (sa.select(DecisionRow, AnalysisRow).join(AnalysisRow, AnalysisRow.id == DecisionRow.analysis_id)
             .where(DecisionRow.id.in_(latest)).order_by(DecisionRow.id.desc()))
    if limit:
        query = query.limit(limit)
    report = ReplayReport(candidate.version)
    for stored, analysis in session.execute(query):
        report.total += 1
        verdict = decide(candidate, analysis)
        old = label("route" if stored.outcome in ROUTED else stored.outcome, stored.agency)
        new = old if joins_its_source_again(stored, analysis, verdict.outcome) else label(verdict.outcome,
                                                                                             verdict.agency)
        if old == new:
            continue
        report.changed += 1
        report.moves[(old, new)] += 1
        examples = report.examples.setdefault((old, new), [])
        if len(examples) < EXAMPLES_PER_CHANGE:
            examples.append(Change(stored.item_pk, stored.outcome, stored.agency, stored.rule, verdict.outcome,
                                   verdict.agency, verdict.rule))
    return report
