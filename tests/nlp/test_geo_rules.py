"""Geo rules the golden tables do not show directly: confidence order, reasons, spans, inputs."""
from __future__ import annotations

import doctest
import importlib

import pytest

from nlp.geo import locate, locate_many
from nlp.normalize import tokenize


def test_ambiguity_confidence_falls_from_context_to_home_to_size():
    by_context = locate("В Заречном Симферопольского района прорвало трубу")
    by_home = locate("В Заречном прорвало трубу", "Симферопольский район")
    by_size = locate("В Заречном прорвало трубу")
    assert by_context.settlement == by_home.settlement == by_size.settlement == "Заречное"
    assert by_context.confidence > by_home.confidence > by_size.confidence
    assert "«Симферопольского района» in the text" in by_context.reason
    assert "home municipality" in by_home.reason and "the largest" in by_size.reason


def test_cue_makes_an_ordinary_word_a_place():
    assert locate("мирное небо").municipality is None
    assert locate("с. Мирное, нет воды").settlement == "Мирное"
    assert locate("с мирным населением так нельзя").municipality is None


def test_evidence_is_the_exact_span_and_tokens_can_be_reused():
    text = "Жители пгт Гвардейское — опять без воды"
    match = locate(text)
    assert match.evidence == "Гвардейское" and text.count(match.evidence) == 1
    assert locate(text, tokens=tokenize(text)) == match


def test_street_after_a_town_goes_into_the_reason():
    match = locate("Симферополь, ул. Киевская, 120 — яма")
    assert match.settlement == "Симферополь" and "street ул. Киевская" in match.reason


def test_sevastopol_okrug_as_home_and_as_mention():
    assert locate("Первомайское: нет газа", "Качинский муниципальный округ").municipality == "Севастополь"
    match = locate("Фиолент: опять без воды")
    assert (match.municipality, match.settlement) == ("Севастополь", None)
    assert "Балаклавский муниципальный округ" in match.reason


def test_no_place_falls_back_to_home_with_low_confidence():
    assert locate("нет воды", "городской округ Судак").confidence == 0.3
    nothing = locate("")
    assert (nothing.municipality, nothing.evidence, nothing.confidence) == (None, None, 0.0)


def test_text_must_be_a_string():
    with pytest.raises(TypeError, match="text must be str"):
        locate(None)


@pytest.mark.parametrize("module", ["nlp.geo", "nlp.geo.forms", "nlp.geo.matcher", "nlp.geo.derived"])
def test_docstring_examples(module):
    assert doctest.testmod(importlib.import_module(module)).failed == 0


def test_ner_check_drops_a_capital_only_mention_inside_an_organisation():
    from nlp.geo import ner
    from nlp.geo.gazetteer import load_gazetteer
    from nlp.geo.matcher import find_mentions

    text = "у станции метро в сторону ТК Порт Находка нет освещения"
    mentions = find_mentions(text, load_gazetteer())
    assert [m.support for m in mentions] == ["weak"]
    start = text.index("ТК")
    assert ner.check(mentions, [(start, start + len("ТК Порт Находка"), "ORG")]) == []
    assert ner.check(mentions, [(start, start + 2, "ORG")]) == mentions


def test_locate_many_with_ner_keeps_sure_places():
    texts = ["у метро в сторону ТК Порт Находка нет освещения", "В Симферополе нет воды"]
    plain, checked = locate_many(texts), locate_many(texts, ner=True)
    assert plain[0].settlement == "Находка" and checked[0].municipality is None
    assert plain[1] == checked[1]


def test_route_ends_are_not_the_place_when_another_is_named():
    from nlp.geo.gazetteer import load_gazetteer
    from nlp.geo.matcher import find_mentions

    text = "участок дороги Керчь — Симферополь возле Белогорска весь в ямах"
    routes = [m.route for m in find_mentions(text, load_gazetteer())]
    assert routes == ["Керчь — Симферополь", "Керчь — Симферополь", None]
    assert locate(text).settlement == "Белогорск"


def test_a_route_alone_gives_its_end_with_low_confidence_and_says_so():
    alone = locate("на трассе Симферополь - Феодосия авария")
    assert alone.settlement == "Симферополь" and alone.confidence < 0.5  # routing's review threshold
    assert "only the route «Симферополь - Феодосия» is named: its first end" in alone.reason
    at_home = locate("на трассе Симферополь - Феодосия авария", "городской округ Феодосия")
    assert at_home.settlement == "Феодосия" and "its end in the source's home municipality" in at_home.reason
    assert locate("Ялта — Массандра: нет воды").settlement == "Массандра"  # one okrug: a list, not a route


def test_a_towns_micro_district_is_not_a_far_village_of_the_same_name():
    kerch = locate("В Солнечном нет воды третий день", "городской округ Керчь")
    assert (kerch.municipality, kerch.settlement, kerch.evidence) == ("городской округ Керчь", None, None)
    assert "«Солнечном» is no place of the home municipality" in kerch.reason
    assert locate("В Нижнем Солнечном нет воды").municipality is None  # a longer name the gazetteer lacks
    assert locate("В Солнечном нет воды", "Симферопольский район").settlement == "Солнечное"  # one of home's
    assert locate("пос. Солнечный: нет воды", "городской округ Керчь").municipality == "Севастополь"  # a cue


def test_from_to_names_a_route_too():
    from nlp.geo.gazetteer import load_gazetteer
    from nlp.geo.matcher import find_mentions

    text = "На дороге из Евпатории в Севастополь поля завалены мусором"
    assert [m.route for m in find_mentions(text, load_gazetteer())] == ["Евпатории в Севастополь"] * 2
    alone = locate(text)
    assert alone.confidence < 0.5 and "only the route" in alone.reason
    assert locate("Переехал из Москвы в Ялту, тут нет воды").confidence == 0.9  # Москва is not a Crimean place
    assert [m.route for m in find_mentions("В Ялте и в Алуште нет воды", load_gazetteer())] == [None, None]
