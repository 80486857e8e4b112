"""Analyzer contract: batched, parallel to inputs, probabilities, reasons and the model version."""
import pytest

from nlp.analyzer import load_analyzer
from tsur.records import Analysis, AnalysisInput

TEXTS = ["Третий день нет воды в Саках, дети без воды", "Скидки на шубы в ТЦ, только три дня", ""]


@pytest.fixture(scope="module")
def analyzer():
    return load_analyzer()


def test_batch_is_parallel_to_inputs(analyzer):
    inputs = [AnalysisInput(10 + i, t, "городской округ Саки") for i, t in enumerate(TEXTS)]
    out = analyzer.analyze(inputs)
    assert [a.item_pk for a in out] == [10, 11, 12]
    assert all(isinstance(a, Analysis) and a.model_version == analyzer.version for a in out)
    assert all(0.0 <= a.complaint_proba <= 1.0 and 0.0 <= a.topic_proba <= 1.0 for a in out)


def test_batch_equals_one_by_one(analyzer):
    inputs = [AnalysisInput(i, t) for i, t in enumerate(TEXTS)]
    assert analyzer.analyze(inputs) == [analyzer.analyze([x])[0] for x in inputs]


def test_outage_complaint_is_high_with_reasons(analyzer):
    [a] = analyzer.analyze([AnalysisInput(1, TEXTS[0], "городской округ Саки")])
    assert a.is_complaint and a.topic_group == "ЖКХ" and a.importance == "high"
    assert a.genre == "complaint" and a.reasons[0].startswith("complaint ") and "вода" in a.reasons[0]
    assert a.reasons[1].startswith("topic ЖКХ ")
    assert any(r.startswith("importance high: отключение") for r in a.reasons)


def test_geo_fields_come_from_nlp_geo(analyzer):
    [a] = analyzer.analyze([AnalysisInput(1, TEXTS[0], None)])
    assert a.municipality == "городской округ Саки" and a.settlement == "Саки"
    assert a.geo_evidence and a.geo_confidence > 0


def test_advert_is_not_a_complaint_and_not_important(analyzer):
    [a] = analyzer.analyze([AnalysisInput(2, TEXTS[1])])
    assert not a.is_complaint and a.importance == "normal"


def test_empty_batch_and_empty_text(analyzer):
    assert analyzer.analyze([]) == []
    [a] = analyzer.analyze([AnalysisInput(3, "")])
    assert "no known words" in a.reasons[0]


def test_an_official_outage_notice_is_a_notice_not_a_complaint(analyzer):
    text = ("Уважаемые потребители! В связи с плановыми работами 15 мая с 9:00 до 17:00 будет прекращена подача "
            "электроэнергии по улицам Ленина и Советской в Саках")
    [a] = analyzer.analyze([AnalysisInput(1, text, None, "госпаблик", "post", True)])
    assert a.genre == "notice" and not a.is_complaint and a.topic_group == "Энергетика"
    assert a.reasons[0].startswith("notice ")


def test_genre_is_one_of_three_and_agrees_with_is_complaint(analyzer):
    out = analyzer.analyze([AnalysisInput(i, t) for i, t in enumerate(TEXTS)])
    assert all(a.genre in ("complaint", "notice", "other") and a.is_complaint == (a.genre == "complaint")
               for a in out)


def test_structure_moves_the_genre_towards_the_writer(analyzer):
    text = "Работы по ремонту водовода завершены, водоснабжение в Евпатории восстановлено"
    official, visitor = analyzer.analyze([AnalysisInput(1, text, None, "госпаблик", "post", True),
                                          AnalysisInput(2, text, None, "госпаблик", "comment", False)])
    assert official.genre == "notice" and official.complaint_proba <= visitor.complaint_proba
