"""Golden table and file checks for the fine-topic rules (config/topics/topic_rules.csv)."""
import csv
from pathlib import Path

import pytest

from nlp.lemma_rules import grams_of
from nlp.normalize import lemmas
from nlp.topics import RULES_FILE, fine_topic, load_topic_rules

HERE = Path(__file__).parent
ROWS = [tuple(line.split("\t")) for line in (HERE / "golden_topics.tsv").read_text(encoding="utf-8").splitlines()
        if line and not line.startswith("#")]


@pytest.mark.parametrize(("group", "expected", "text"), ROWS)
def test_fine_topic_golden(group, expected, text):
    topic, reason = fine_topic(group, grams_of(lemmas(text)))
    assert (topic or "-") == expected, reason
    assert bool(reason) == (expected != "-")


def test_rule_applies_only_inside_its_group():
    grams = grams_of(lemmas("Третий день нет воды"))
    assert fine_topic("ЖКХ", grams)[0] == "Отсутствие холодной воды"
    assert fine_topic("Дороги", grams) == (None, None)


def test_every_alternative_is_a_lemma_the_normaliser_produces():
    """A word that lemmatises to something else would never match (its lemma must be listed beside it)."""
    for rule in load_topic_rules():
        for group in (*rule.rule.all_of, rule.rule.none_of):
            for alternative in group:
                for word in alternative.split("_"):
                    assert lemmas(word)[0] == word or lemmas(word)[0] in group, (rule.line, word, lemmas(word))


def test_topic_outside_the_taxonomy_is_refused_with_its_line(tmp_path):
    bad = tmp_path / "topic_rules.csv"
    with open(RULES_FILE, encoding="utf-8") as src, open(bad, "w", encoding="utf-8", newline="") as out:
        rows = list(csv.reader(src))
        rows.insert(2, ["Ямы на дороге", "ЖКХ", "яма", "", ""])
        csv.writer(out).writerows(rows)
    with pytest.raises(ValueError, match=r"topic_rules.csv:3: topic 'Ямы на дороге' is not a topic of group 'ЖКХ'"):
        load_topic_rules(bad)


def test_analyzer_fills_the_fine_topic_and_names_it_in_the_reasons():
    from nlp.analyzer import load_analyzer
    from tsur.records import AnalysisInput

    [a] = load_analyzer(use_geo=False).analyze([AnalysisInput(1, "Третий день нет горячей воды, дети не мытые")])
    assert (a.topic_group, a.topic) == ("ЖКХ", "Отсутствие горячей воды")
    assert any(r.startswith("fine topic Отсутствие горячей воды") for r in a.reasons)


@pytest.mark.shared
def test_rules_find_the_topic_of_spb_appeals_whose_reason_names_it(shared_data):
    """Floors under the figures in models/README.md (rules tuned on the training period only)."""
    import pandas as pd

    from nlp.evaluation import score_fine_topics

    scores = score_fine_topics(shared_data, pd.Timestamp("2021-03-30 08:47:53"))
    assert scores["held-out"]["n"] >= 40 and scores["all"]["n"] >= 600
    assert scores["held-out"]["right"] >= 0.75 and scores["all"]["right"] >= 0.78
    assert scores["all"]["fired_elsewhere"] <= 0.07
