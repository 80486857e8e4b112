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
    assert reasons == ("importance high: отключение воды (нет + вода)",)


def test_veto_words_stop_a_rule():
    rule = Rule("r", "why", (frozenset({"нет"}), frozenset({"свет"})), frozenset({"фонарь"}))
    assert rule.matches({"нет", "свет"}) == ("нет", "свет")
    assert rule.matches({"нет", "свет", "фонарь"}) is None


def test_children_alone_are_not_high_a_risk_word_is_needed():
    _, reasons = assess(lemmas("Детская площадка: из горки торчит арматура"))
    assert reasons == ("importance high: риск для детей (холод, травма, болезнь, опасный объект рядом) "
                       "(горка + арматура)",)
    assert assess(lemmas("Детская площадка, нужна лавочка")) == ("normal", ())


def test_a_trigram_veto_tells_the_stairwell_lamp_from_a_power_cut():
    assert assess(lemmas("Нет света в подъезде"))[0] == "normal"
    assert assess(lemmas("Нет света в квартирах, в подъезде темно"))[0] == "high"


def test_rules_file_loads():
    rules = load_rules()
    names = [r.name for r in rules]
    assert len(names) == len(set(names))
    assert {"danger", "outage_water", "outage_power", "children", "dogs", "flood", "ice", "mass"} <= set(names)
    assert all(r.reason.strip() and r.all_of for r in rules)
