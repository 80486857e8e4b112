"""Rule precedence, fallbacks, validation and loading errors."""
from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from routing.check import check_rules
from routing.decide import route
from routing.errors import RulesError
from routing.policy import load_policy
from routing.rules import read_rules
from tests.routing.conftest import config_copy

YALTA, KERCH, KIROV, SEV = "городской округ Ялта", "городской округ Керчь", "Кировский район", "Севастополь"

# topic_group, topic, municipality, settlement → expected rule id, agency (None = triage queue)
GOLDEN = [
    ("ЖКХ", "Отсутствие холодной воды", YALTA, None, "zhkh-cold-water-ybk", "РО ГУП РК «Водоканал ЮБК»"),
    ("ЖКХ", "Отсутствие холодной воды", KIROV, None, "zhkh-cold-water", "ГУП РК «Вода Крыма»"),
    ("ЖКХ", "★ Отсутствие холодной воды", None, None, "zhkh-cold-water", "ГУП РК «Вода Крыма»"),
    ("ЖКХ", None, YALTA, None, "zhkh-local", "Администрация городского округа Ялта Республики Крым"),
    ("ЖКХ", None, None, None, "zhkh", "Министерство жилищно-коммунального хозяйства Республики Крым"),
    ("Благоустройство", None, KIROV, "Старый Крым", "blago-stary-krym",
     "Администрация города Старый Крым Кировского района Республики Крым"),
    ("Благоустройство", None, KIROV, "Кировское", "blago-local", "Администрация Кировского района Республики Крым"),
    ("Здравоохранение", None, KERCH, None, "health", "Министерство здравоохранения Республики Крым"),
    (None, None, KERCH, None, "place-only", "Администрация городского округа Керчь Республики Крым"),
    ("Неизвестная группа", None, KERCH, None, "place-only", "Администрация городского округа Керчь Республики Крым"),
    ("Здравоохранение", None, None, None, "health", "Министерство здравоохранения Республики Крым"),
    (None, None, None, None, "fallback:triage", None),
    ("ЖКХ", None, SEV, None, "sevastopol-zhkh", None),
    ("ЖКХ", "Отсутствие холодной воды", SEV, None, "sevastopol-zhkh", None),  # not Вода Крыма: Sevastopol is not the republic
    ("Обращение с отходами", "Стихийные свалки в городе/в парках/в лесу", SEV, None, "sevastopol-waste", None),
    (None, None, SEV, None, "sevastopol", None),
    ("Энергетика", "Качество электроснабжения", YALTA, None, "energy-power", "ГУП РК «Крымэнерго»"),
    ("Энергетика", None, YALTA, None, "energy", "Министерство топлива и энергетики Республики Крым"),
]


@pytest.mark.parametrize("group, topic, municipality, settlement, rule, agency", GOLDEN)
def test_most_specific_rule_wins(policy, group, topic, municipality, settlement, rule, agency):
    got_agency, got_rule, reason = route(policy, group, topic, municipality, settlement)
    assert (got_rule, got_agency) == (rule, agency), reason


def test_repo_rules_have_no_problems(policy):
    assert check_rules(policy) == []


def write_rules(tmp_path, body: str):
    cfg = config_copy(tmp_path / "cfg")
    (cfg / "routing_rules.csv").write_text("id,topic_group,topic,municipality,settlement,agency,note\n" + body,
                                           encoding="utf-8")
    return cfg


def test_check_reports_each_kind_of_problem(tmp_path):
    cfg = write_rules(tmp_path, "\n".join([
        "a,ЖКХ,,,,Нет такого ведомства,",
        "b,Космос,,,,Минздрав РК,",
        "c,ЖКХ,Нет такой темы,,,Минздрав РК,",
        "d,Энергетика,Отсутствие холодной воды,,,Минздрав РК,",
        "e,ЖКХ,,Атлантида,,Минздрав РК,",
        "f,ЖКХ,,*,Старый Крым,Минздрав РК,",
        "g,Здравоохранение,,,,Минздрав РК,",
        "h,здравоохранение ,,,,Минтруд,",
    ]) + "\n")
    policy = load_policy(cfg, strict=False)
    found = {(p.rule, p.line, p.message.split(":")[0].split(" ")[0]) for p in check_rules(policy)}
    assert found == {("a", 2, "unknown"), ("b", 3, "unknown"), ("c", 4, "unknown"), ("d", 5, "unreachable"),
                     ("e", 6, "unknown"), ("f", 7, "unreachable"), ("h", 9, "shadowed")}
    with pytest.raises(RulesError, match="7 error"):
        load_policy(cfg)


def test_settlement_outside_its_municipality_is_unreachable(policy):
    problems = check_rules(policy, known_settlements={"Кировский район": ["Кировское"],
                                                       "Бахчисарайский район": ["Бахчисарай"],
                                                       "Белогорский район": ["Белогорск"]})
    assert [(p.rule, p.message) for p in problems] == [
        ("blago-stary-krym", "unreachable: no settlement 'Старый Крым' in 'Кировский район'")]


@pytest.mark.parametrize("body, message", [
    ("x,ЖКХ,,,,,\n", "2: rule 'x' has no agency"),
    (",ЖКХ,,,,Минздрав РК,\n", "2: empty rule id"),
    ("x,ЖКХ,,,,Минздрав РК,\nx,Дороги,,,,Минздрав РК,\n", "3: rule id 'x' already used on line 2"),
    ("x,ЖКХ,,,,{municipal},\n", "2: rule 'x': {municipal} needs a municipality"),
    ("x,ЖКХ,,,,Минздрав РК,note,extra\n", "2: too many fields"),
])
def test_malformed_rules_name_file_and_line(tmp_path, body, message):
    path = tmp_path / "rules.csv"
    path.write_text("id,topic_group,topic,municipality,settlement,agency,note\n" + body, encoding="utf-8")
    with pytest.raises(RulesError) as err:
        read_rules(path)
    assert str(err.value).startswith(f"{path}:{message}")


def test_missing_columns_are_reported(tmp_path):
    path = tmp_path / "rules.csv"
    path.write_text("id,agency\nx,Минздрав РК\n", encoding="utf-8")
    with pytest.raises(RulesError, match=r"rules.csv:1: missing column\(s\): topic_group"):
        read_rules(path)


def test_version_changes_with_rules(tmp_path, policy):
    cfg = write_rules(tmp_path, "g,Здравоохранение,,,,Минздрав РК,\n")
    assert load_policy(cfg).version != policy.version
    assert load_policy(cfg).version.split("+")[0] == policy.version.split("+")[0]


def test_an_unknown_key_with_a_line_break_is_one_line_error(tmp_path):
    # hypothesis (test_policy_with_a_broken_toml, random seed) found `"a\nb" = 1` in [defaults]: two-line message
    folder = config_copy(tmp_path / "cfg", '[defaults]\n"max\\nattempts" = 1\n')
    with pytest.raises(RulesError) as err:
        load_policy(folder)
    assert str(err.value).splitlines() == [str(err.value)] and "'max\\nattempts'" in str(err.value)


@given(st.text(max_size=40), st.text(max_size=40))
def test_every_rules_error_is_one_line(head, tail):
    message = str(RulesError(f"{head}\n{tail}\r\n"))
    assert len(message.splitlines()) <= 1 and message.strip() == message
