"""Demonyms and adjectives made by the gazetteer builder: the suffix rules, the pymorphy3 checks, any region."""
from __future__ import annotations

import json
from collections import Counter

import pytest

from nlp.geo.build import build, write_config
from nlp.geo.derived import derived_keys, derived_words
from nlp.geo.gazetteer import REGIONS, load_from, load_gazetteer


@pytest.mark.parametrize("name,words", [
    ("Симферополь", {"симферопольский", "симферополец"}),
    ("Керчь", {"керченский", "керчанин"}),
    ("Феодосия", {"феодосийский", "феодосиец"}),
    ("Ялта", {"ялтинский", "ялтинец"}),
    ("Джанкой", {"джанкойский", "джанкоец"}),
    ("Судак", {"судакский", "судакец", "судачанин"}),
    ("Армянск", {"армянский", "армянец", "армянчанин"}),
    ("Саки", {"сакский", "сакчанин"}),
    ("Раздольное", {"раздольненский", "раздольненец"}),
    ("Щёлкино", {"щелкинский", "щелкинец"}),
    ("Нижнегорский", {"нижнегорец"}),
    ("Казань", {"казанский", "казанец"}),
    ("Старый Крым", set()),
])
def test_suffix_rules(name, words):
    assert set(derived_words(name)) == words


def test_every_case_of_a_demonym_is_a_key():
    assert {"симферополец"} == derived_keys("симферопольцы") == derived_keys("симферополец")
    assert "керчанин" in derived_keys("керчане") and "керчан" in derived_keys("керчане")  # «керчане», «у керчан»
    assert derived_keys("Массандра") == set()  # no demonym or adjective ending


def keys_of(place_name: str) -> dict[str, str]:
    gaz = load_gazetteer("crimea")
    return {" ".join(k): e.via for k, entries in gaz.index.items() for e in entries
            if e.place.name == place_name and e.via in ("demonym", "adjective")}


def test_crimean_towns_have_demonyms_below_their_names_confidence():
    gaz = load_gazetteer("crimea")
    for key in ("симферополец", "керчанин", "ялтинец", "евпаториец", "бахчисараец", "судачанин"):
        (entry,) = gaz.index[(key,)]
        assert entry.via == "demonym" and entry.cue == 0 and entry.confidence < 0.9


@pytest.mark.parametrize("place,dropped", [
    ("Армянск", "армянский"),  # Armenian: may come from «армянин»
    ("Петровка", "петровский"),  # from «Петров»
    ("Гвардейское", "гвардеец"),  # the place's name is an ordinary word: guardsmen
    ("Приморский", "приморец"),  # of Приморье
    ("Ленино", "ленинец"),
    ("Черноморское", "черноморец"),
])
def test_ordinary_words_are_not_generated(place, dropped):
    assert dropped not in keys_of(place)


def test_counts_of_the_checks_are_recorded():
    counts = json.loads((REGIONS / "crimea" / "meta.json").read_text(encoding="utf-8"))["derived_keys"]
    assert counts["generated"] == counts["kept"] + sum(v for k, v in counts.items() if k.startswith("dropped"))
    assert counts["kept"] >= 60


def test_another_region_gets_demonyms_from_its_own_lists(tmp_path):
    source = tmp_path / "in"
    source.mkdir()
    (source / "municipalities.csv").write_text(
        "name,type,admin_centre\nАрский район,муниципальный район,г. Арск\n"
        "Высокогорский район,муниципальный район,с. Высокая Гора\n", encoding="utf-8")
    (source / "settlements.csv").write_text(
        "name,type,municipality,population_2020\nАрск,г.,Арский район,\nНовый Кырлай,с.,Арский район,900\n"
        "Высокая Гора,с.,Высокогорский район,12000\nДубъязы,с.,Высокогорский район,5200\n", encoding="utf-8")
    aliases = tmp_path / "aliases.csv"
    aliases.write_text("alias,municipality,settlement,needs_cue,confidence,note\n"
                       "Высокогорцы,Высокогорский район,Высокая Гора,0,0.75,two-word name\n", encoding="utf-8")
    stats: Counter = Counter()
    places, names = build(source, aliases, stats)
    write_config(places, names, tmp_path / "tatarstan", "tatarstan", stats)
    gaz = load_from(tmp_path / "tatarstan", "tatarstan")
    assert [e.place.name for e in gaz.index[("арчанин",)]] == ["Арск"]  # a town: «арчане»
    assert [e.place.name for e in gaz.index[("дубъязский",)]] == ["Дубъязы"]  # 5,200 people
    assert ("кырлаец",) not in gaz.index and ("новый", "кырлай") in gaz.index  # a village of 900: none
    assert gaz.index[("высокогорец",)][0].via == "alias"
    assert stats["generated"] > stats["kept"] > 0
