"""Build a region's gazetteer config (places.csv, names.csv, meta.json) from public CSV lists.

Input contract (see config/regions/README.md): a folder with `municipalities.csv` (name, type;
optional population_2020) and `settlements.csv` (name, type, municipality; optional
settlement_municipality, alt_names, postal_index, population_2020), plus the region's curated
`aliases.csv` (alias, municipality, settlement, needs_cue, confidence, note).
"""
from __future__ import annotations

import csv
import json
import re
from collections import Counter
from pathlib import Path

import pymorphy3

from nlp.geo.derived import derived_keys, derived_names
from nlp.geo.errors import GazetteerError
from nlp.geo.forms import is_known_word, key_of, name_keys, needs_cue, word_tokens
from nlp.geo.records import Place

MUNICIPALITY_COLUMNS = ("name", "type")
SETTLEMENT_COLUMNS = ("name", "type", "municipality")
ALIAS_COLUMNS = ("alias", "municipality", "settlement", "needs_cue", "confidence", "note")
PLACE_COLUMNS = ("id", "kind", "name", "type", "municipality", "okrug", "weight")
NAME_COLUMNS = ("key", "place", "via", "cue", "confidence")
OKRUG_TYPE = "внутригородское"  # municipalities.csv type prefix of a city's internal okrug
CITY_TYPE = "город федерального значения"
TYPE_WEIGHT = {"г.": 10000, "пгт": 3000, "пос.": 700, "с.": 500, "": 1000}
POSTAL_WEIGHT = 200
NAME_CONFIDENCE = {"municipality": 0.9, "okrug": 0.85, "settlement": 0.9}
# Demonyms and adjectives are made for towns, municipality centres and settlements of at least this
# many people: bigger places have them in use («гурзуфцы», «партенитский»), while for villages they
# are rare and the rule-made words are mostly wrong or ordinary words.
LARGE_PLACE = 5000
_NON_RUSSIAN = re.compile(r"[іїєґІЇЄҐ'’ʼ]")
_DISTRICT = re.compile(r"^(\w+ский) район$")
_OKRUG = re.compile(r"^(\w+ский) муниципальный округ$")


def read_rows(path: Path, required: tuple[str, ...]) -> list[tuple[int, dict[str, str]]]:
    """CSV rows with their line numbers; GazetteerError naming the file if a column is missing."""
    if not path.is_file():
        raise GazetteerError(f"{path}: file not found")
    with path.open(encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh)
        missing = [c for c in required if c not in (reader.fieldnames or [])]
        if missing:
            raise GazetteerError(f"{path}:1: missing column(s) {', '.join(missing)}")
        rows = [(reader.line_num, row) for row in reader]
    for line, row in rows:
        if not (row.get("name") or row.get("alias") or "").strip():
            raise GazetteerError(f"{path}:{line}: empty name")
    return rows


def parse_int(value: str | None, path: Path, line: int) -> int:
    """An int column value, 0 when blank."""
    value = (value or "").strip()
    if not value:
        return 0
    if not value.isdigit():
        raise GazetteerError(f"{path}:{line}: not a whole number: {value!r}")
    return int(value)


def collect_places(source: Path) -> list[Place]:
    """Municipalities, okrugs and settlements of the input folder, in input order."""
    mpath, spath = source / "municipalities.csv", source / "settlements.csv"
    places: list[Place] = []
    city = ""
    for line, row in read_rows(mpath, MUNICIPALITY_COLUMNS):
        kind = "okrug" if row["type"].startswith(OKRUG_TYPE) else "municipality"
        city = row["name"] if row["type"] == CITY_TYPE else city
        if kind == "okrug" and not city:
            raise GazetteerError(f"{mpath}:{line}: okrug before its {CITY_TYPE}")
        weight = parse_int(row.get("population_2020"), mpath, line)
        parent = city if kind == "okrug" else row["name"]
        places.append(Place(len(places), kind, row["name"], row["type"], parent, "", weight))
    known = {p.name for p in places if p.kind == "municipality"}
    for line, row in read_rows(spath, SETTLEMENT_COLUMNS):
        if row["municipality"] not in known:
            raise GazetteerError(f"{spath}:{line}: unknown municipality {row['municipality']!r}")
        okrug = row.get("settlement_municipality", "") if row["municipality"] == city else ""
        places.append(Place(len(places), "settlement", row["name"], row["type"], row["municipality"],
                            okrug, settlement_weight(row, spath, line)))
    return places


def settlement_weight(row: dict[str, str], path: Path, line: int) -> int:
    """Population if known, else a size guess from the type and the number of post offices."""
    population = parse_int(row.get("population_2020"), path, line)
    if population:
        return population
    offices = len([i for i in (row.get("postal_index") or "").split(";") if i.strip()])
    return TYPE_WEIGHT.get(row["type"], TYPE_WEIGHT[""]) + POSTAL_WEIGHT * offices


def alt_spellings(source: Path) -> dict[str, list[str]]:
    """Russian alternative spellings by settlement name+municipality (Ukrainian names dropped)."""
    spellings: dict[str, list[str]] = {}
    for _, row in read_rows(source / "settlements.csv", SETTLEMENT_COLUMNS):
        alts = [a.strip() for a in (row.get("alt_names") or "").split(";")]
        drop = {row["name"], (row.get("name_uk") or "").strip()}
        keep = [a for a in alts if a and not _NON_RUSSIAN.search(a) and a not in drop]
        spellings[f"{row['name']}|{row['municipality']}"] = keep
    return spellings


def place_variants(place: Place) -> list[str]:
    """Extra written forms of a municipality or okrug ('Бахчисарайский муниципальный район', 'Балаклавский район')."""
    district = _DISTRICT.match(place.name)
    if district:
        return [f"{district.group(1)} муниципальный район"]
    okrug = _OKRUG.match(place.name)
    if okrug:
        return [f"{okrug.group(1)} район", f"{okrug.group(1)} округ"]
    return []


def own_names(place: Place, alts: dict[str, list[str]], settlement_names: set[str]) -> list[tuple[str, str]]:
    """(written name, via) pairs a place is found by, before aliases."""
    if place.kind == "settlement":
        extra = alts.get(f"{place.name}|{place.municipality}", [])
        return [(place.name, "name")] + [(a, "variant") for a in extra]
    if place.name in settlement_names:  # «Севастополь» the city is found as the settlement
        return []
    return [(place.name, "name")] + [(v, "variant") for v in place_variants(place)]


def place_names(places: list[Place], source: Path) -> dict[tuple[str, int], tuple[str, int, float]]:
    """(key, place id) -> (via, cue level 0/1/2, confidence) for every own name of every place."""
    alts = alt_spellings(source)
    settlement_names = {p.name for p in places if p.kind == "settlement"}
    names: dict[tuple[str, int], tuple[str, int, float]] = {}
    for place in places:
        for written, via in own_names(place, alts, settlement_names):
            base = NAME_CONFIDENCE[place.kind] + (0.05 if len(word_tokens(written)) > 1 else 0.0)
            checked = place.kind == "settlement" and place.type != "г."  # «район», «округ» are cues
            nominative = key_of(word_tokens(written))
            cue_all = needs_cue(nominative) if checked else 0
            for key in sorted(name_keys(written)):
                # a town's case form read as another word («за Армянском» -> 'армянский') needs a cue too
                other = derived_cue(key, nominative) if checked or place.kind == "settlement" and " " not in key else 0
                cue = max(cue_all, needs_cue(key), other) if checked else other
                names.setdefault((key, place.id), (via, cue, round(min(base, 0.95), 2)))
    return names


def derived_cue(key: str, nominative: str) -> int:
    """Cue level 2 for a case form's key that is another dictionary word («в Кирове» -> 'киров')."""
    if key == nominative:
        return 0
    return 2 if all(is_known_word(p) for p in key.split()) else 0


def find_target(places: list[Place], municipality: str, settlement: str) -> Place | None:
    """The place an alias row points at: a settlement in a municipality, or a municipality/okrug."""
    for place in places:
        if settlement and place.kind == "settlement" and place.name == settlement \
                and place.municipality == municipality:
            return place
        if not settlement and place.kind != "settlement" and place.name == municipality:
            return place
    return None


def add_aliases(names: dict, places: list[Place], path: Path) -> None:
    """Merge the curated aliases.csv into `names`; an alias equal to the name overrides its cue."""
    for line, row in read_rows(path, ALIAS_COLUMNS):
        target = find_target(places, row["municipality"].strip(), row["settlement"].strip())
        if target is None:
            raise GazetteerError(f"{path}:{line}: no place {row['municipality']!r}/{row['settlement']!r}")
        flag = row["needs_cue"].strip()
        if flag not in ("", "0", "1", "2"):
            raise GazetteerError(f"{path}:{line}: needs_cue must be blank, 0, 1 or 2")
        confidence = parse_confidence(row["confidence"], path, line)
        for key in sorted(alias_keys(row["alias"])):
            via, cue, conf = names.get((key, target.id), ("alias", needs_cue(key), confidence))
            cue = cue if flag == "" else int(flag)
            names[(key, target.id)] = (via, cue, conf if via != "alias" else confidence)


def alias_keys(alias: str) -> set[str]:
    """Keys of an alias: its case forms, and for one word also those of a demonym or adjective («Старокрымцы»)."""
    keys = name_keys(alias)
    return keys | derived_keys(alias) if len(word_tokens(alias)) == 1 else keys


def parse_confidence(value: str, path: Path, line: int) -> float:
    """A confidence column value in (0, 1]."""
    try:
        number = float(value)
    except ValueError:
        raise GazetteerError(f"{path}:{line}: confidence is not a number: {value!r}") from None
    if not 0.0 < number <= 1.0:
        raise GazetteerError(f"{path}:{line}: confidence out of (0, 1]: {value!r}")
    return number


def centre_ids(places: list[Place], source: Path) -> set[int]:
    """Settlements that are a municipality's centre: the optional `admin_centre` column of
    municipalities.csv («г. Бахчисарай», «пгт Кировское»), else the town an okrug is named after."""
    ids = set()
    for _, row in read_rows(source / "municipalities.csv", MUNICIPALITY_COLUMNS):
        centre = (row.get("admin_centre") or "").strip()
        name = centre.split(" ", 1)[1] if " " in centre and centre.split(" ", 1)[0] in TYPE_WEIGHT else centre
        parent = next((p.municipality for p in places if p.kind != "settlement" and p.name == row["name"]), "")
        ids |= {p.id for p in places if p.kind == "settlement" and p.municipality == parent
                and (p.name == name or row["name"].endswith(f" {p.name}"))}
    return ids


def add_derived(names: dict, places: list[Place], source: Path) -> Counter:
    """Add the demonyms and adjectives of towns, centres and large settlements; counts of the checks."""
    chosen = {p.id for p in places if p.kind == "settlement" and (p.type == "г." or p.weight >= LARGE_PLACE)}
    chosen |= centre_ids(places, source)
    ordinary = {pid for pid in chosen if places[pid].type != "г." and needs_cue(key_of(word_tokens(places[pid].name)))}
    derived, stats = derived_names(places, chosen, names, ordinary)
    names.update(derived)
    return stats


def build(source: Path, aliases: Path, stats: Counter | None = None
          ) -> tuple[list[Place], list[tuple[str, int, str, int, float]]]:
    """Places and sorted name rows (key, place id, via, cue level, confidence) of one region;
    `stats` (if given) gets the counts of derived keys generated, kept and dropped."""
    places = collect_places(source)
    names = place_names(places, source)
    (stats if stats is not None else Counter()).update(add_derived(names, places, source))
    add_aliases(names, places, aliases)
    rows = [(key, pid, *value) for (key, pid), value in names.items()]
    return places, sorted(rows, key=lambda r: (r[0], r[1]))


def write_config(places: list[Place], rows: list, out: Path, region: str, stats: Counter | None = None) -> None:
    """Write places.csv, names.csv and meta.json (with build()'s `stats`) into `out` (deterministic bytes)."""
    out.mkdir(parents=True, exist_ok=True)
    with (out / "places.csv").open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(PLACE_COLUMNS)
        writer.writerows((p.id, p.kind, p.name, p.type, p.municipality, p.okrug, p.weight) for p in places)
    with (out / "names.csv").open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(NAME_COLUMNS)
        writer.writerows((k, pid, via, cue, f"{conf:.2f}") for k, pid, via, cue, conf in rows)
    meta = {"region": region, "places": len(places), "names": len(rows),
            "derived_keys": dict(sorted((stats or {}).items())),
            "pymorphy3": pymorphy3.__version__, "pymorphy3_dicts": dicts_version()}
    (out / "meta.json").write_text(json.dumps(meta, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")


def dicts_version() -> str:
    """Version of the pymorphy3 Russian dictionaries the keys were made with."""
    import pymorphy3_dicts_ru

    return pymorphy3_dicts_ru.__version__
