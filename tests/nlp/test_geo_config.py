"""Gazetteer config: reproducible from the shared data, and bad configs fail with file and line."""
from __future__ import annotations

import shutil
from collections import Counter
from pathlib import Path

import pytest

from nlp.geo import GazetteerError, locate, locate_many
from nlp.geo.build import build, write_config
from nlp.geo.gazetteer import REGIONS, load_from, load_gazetteer

CRIMEA = REGIONS / "crimea"
GENERATED = ("places.csv", "names.csv", "meta.json")


def test_builder_reproduces_committed_config(shared_data, tmp_path):
    stats = Counter()
    places, names = build(shared_data / "crimea_gazetteer", CRIMEA / "aliases.csv", stats)
    write_config(places, names, tmp_path, "crimea", stats)
    for name in GENERATED:
        assert (tmp_path / name).read_bytes() == (CRIMEA / name).read_bytes(), f"{name} differs: rebuild it"


def test_committed_config_covers_the_region():
    gaz = load_gazetteer()
    kinds = [p.kind for p in gaz.places]
    assert kinds.count("settlement") == 1055
    assert kinds.count("municipality") == 26
    assert "Севастополь" in gaz.homes and gaz.municipality_of("Качинский муниципальный округ") == "Севастополь"


def copy_config(tmp_path: Path) -> Path:
    """A writable copy of the Crimea config folder."""
    folder = tmp_path / "crimea"
    shutil.copytree(CRIMEA, folder)
    return folder


def replace_line(path: Path, number: int, text: str) -> None:
    """Replace 1-based line `number` of a file."""
    lines = path.read_text(encoding="utf-8").splitlines()
    lines[number - 1] = text
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


@pytest.mark.parametrize("file,line,text,message", [
    ("names.csv", 2, "абрикосовка,99999,name,1,0.90", "names.csv:2: unknown place '99999'"),
    ("names.csv", 3, "абрикосовка,1,name,7,0.90", "names.csv:3: empty key or cue"),
    ("names.csv", 4, "абрикосовка,1,name,0,1.5", "names.csv:4: confidence out of"),
    ("names.csv", 5, "абрикосовка,1,name,0,много", "names.csv:5: confidence is not a number"),
    ("names.csv", 6, "абрикосовка,1,name", "names.csv:6: expected 5 fields"),
    ("names.csv", 1, "key,place,via", "names.csv:1: header must be"),
    ("places.csv", 3, "5,settlement,Алушта,г.,городской округ Алушта,,1", "places.csv:3: id must be 1"),
    ("places.csv", 3, "1,village,Алушта,г.,городской округ Алушта,,1", "places.csv:3: unknown kind"),
    ("places.csv", 3, "1,settlement,Алушта,г.,городской округ Алушта,,много", "places.csv:3: weight is not"),
])
def test_bad_config_names_file_and_line(tmp_path, file, line, text, message):
    folder = copy_config(tmp_path)
    replace_line(folder / file, line, text)
    with pytest.raises(GazetteerError, match=message.replace("(", r"\(")):
        load_from(folder, "crimea")


def test_missing_config_file(tmp_path):
    folder = copy_config(tmp_path)
    (folder / "names.csv").unlink()
    with pytest.raises(GazetteerError, match="names.csv: file not found"):
        load_from(folder, "crimea")


def write_source(folder: Path, municipalities: str, settlements: str) -> Path:
    """A tiny builder input folder."""
    folder.mkdir()
    (folder / "municipalities.csv").write_text(municipalities, encoding="utf-8")
    (folder / "settlements.csv").write_text(settlements, encoding="utf-8")
    return folder


ALIASES = "alias,municipality,settlement,needs_cue,confidence,note\n"


def test_builder_rejects_unknown_municipality(tmp_path):
    source = write_source(tmp_path / "in", "name,type\nАрский район,муниципальный район\n",
                          "name,type,municipality\nАрск,г.,Арский район\nКазань,г.,Казань\n")
    (tmp_path / "aliases.csv").write_text(ALIASES, encoding="utf-8")
    with pytest.raises(GazetteerError, match=r"settlements.csv:3: unknown municipality 'Казань'"):
        build(source, tmp_path / "aliases.csv")


def test_builder_rejects_missing_column(tmp_path):
    source = write_source(tmp_path / "in", "name\nАрский район\n", "name,type,municipality\n")
    with pytest.raises(GazetteerError, match=r"municipalities.csv:1: missing column\(s\) type"):
        build(source, tmp_path / "aliases.csv")


def test_builder_rejects_alias_to_nowhere(tmp_path):
    source = write_source(tmp_path / "in", "name,type\nАрский район,муниципальный район\n",
                          "name,type,municipality\nАрск,г.,Арский район\n")
    (tmp_path / "aliases.csv").write_text(ALIASES + "Арчи,Арский район,Арча,0,0.8,\n", encoding="utf-8")
    with pytest.raises(GazetteerError, match=r"aliases.csv:2: no place 'Арский район'/'Арча'"):
        build(source, tmp_path / "aliases.csv")


def test_builder_on_another_region(tmp_path):
    source = write_source(tmp_path / "in", "name,type\nАрский район,муниципальный район\n",
                          "name,type,municipality\nАрск,г.,Арский район\nНовый Кырлай,с.,Арский район\n")
    (tmp_path / "aliases.csv").write_text(ALIASES, encoding="utf-8")
    places, names = build(source, tmp_path / "aliases.csv")
    write_config(places, names, tmp_path / "tatarstan", "tatarstan")
    gaz = load_from(tmp_path / "tatarstan", "tatarstan")
    assert gaz.index[("новый", "кырлай")][0].place.name == "Новый Кырлай"
    assert gaz.index[("арский", "район")][0].place.kind == "municipality"


def test_unknown_home_municipality_is_ignored_with_one_warning(caplog):
    """A typo in a source's home (already in the database) must not fail the texts: the hint is dropped."""
    with caplog.at_level("WARNING", logger="nlp.geo"):
        assert locate("В Ялте нет воды", "Урюпинск").municipality == "городской округ Ялта"
        assert locate("Нет воды третий день", "Урюпинск").municipality is None
        assert [m.municipality for m in locate_many(["В Ялте нет воды", "нет воды"], ["Урюпинск", None])] == \
            ["городской округ Ялта", None]
    warnings = [r.getMessage() for r in caplog.records if "Урюпинск" in r.getMessage()]
    assert len(warnings) == 1 and "unknown home municipality 'Урюпинск'" in warnings[0], warnings


def test_locate_many_needs_parallel_homes():
    with pytest.raises(ValueError, match="2 texts but 1 homes"):
        locate_many(["a", "b"], ["Севастополь"])
