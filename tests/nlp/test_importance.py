"""Golden table for the importance rules."""
from pathlib import Path

import pytest

from nlp.importance import Rule, assess, load_rules
from nlp.normalize import lemmas

HERE = Path(__file__).parent
ROWS = [tuple(line.split("\t")) for line in (HERE / "golden_importance.tsv").read_text(encoding="utf-8").splitlines()
        if line and not line.startswith("#")]


@pytest.mark.parametrize(("expected", "text"), ROWS)
def test_importance_golden(expected, text):
    level, reasons = assess(lemmas(text))
    assert level == expected, reasons
    assert bool(reasons) == (expected == "high")


def test_reason_names_the_rule_and_the_words():
    _, reasons = assess(lemmas("Третий день нет воды"))
    assert reasons == ("importance high: отключение воды, тепла, света или газа (нет + вода)",)


def test_veto_words_stop_a_rule():
    rule = Rule("r", "why", (frozenset({"нет"}), frozenset({"свет"})), frozenset({"фонарь"}))
    assert rule.matches({"нет", "свет"}) == ("нет", "свет")
    assert rule.matches({"нет", "свет", "фонарь"}) is None


def test_rules_file_loads():
    names = {r.name for r in load_rules()}
    assert {"danger", "outage", "children", "mass"} <= names
