"""The run-time gazetteer: places and a lemma-key index loaded once from config/regions/<region>/."""
from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from nlp.geo.build import NAME_COLUMNS, PLACE_COLUMNS
from nlp.geo.errors import GazetteerError
from nlp.geo.records import Entry, Place

REGIONS = Path(__file__).resolve().parents[2] / "config" / "regions"
KINDS = frozenset({"settlement", "municipality", "okrug"})
URBAN_TYPES = ("городской округ", "город федерального значения", "городское поселение")  # a town's own municipality


@dataclass(frozen=True)
class Gazetteer:
    """Places of one region and an index from lemma tuples to the places they may name."""

    region: str
    places: tuple[Place, ...]
    index: dict[tuple[str, ...], tuple[Entry, ...]]
    longest: dict[str, int]  # first lemma of a key -> longest key length starting with it
    homes: dict[str, str]  # municipality or okrug name -> municipality
    prefixes: frozenset[str] = frozenset()  # first words of multiword settlement names: 'нижний', 'новый'
    urban: frozenset[str] = frozenset()  # urban okrugs and federal cities: towns with micro-districts

    def municipality_of(self, name: str) -> str:
        """The municipality a home name means ('Качинский муниципальный округ' -> 'Севастополь')."""
        try:
            return self.homes[name]
        except KeyError:
            raise ValueError(f"unknown home municipality {name!r} for region {self.region!r}") from None


def read_csv(path: Path, columns: tuple[str, ...]) -> list[tuple[int, dict[str, str]]]:
    """Rows with line numbers of a config CSV whose header must be exactly `columns`."""
    if not path.is_file():
        raise GazetteerError(f"{path}: file not found (run scripts/build_gazetteer.py)")
    try:
        with path.open(encoding="utf-8", newline="") as fh:
            reader = csv.DictReader(fh)
            if tuple(reader.fieldnames or ()) != columns:
                raise GazetteerError(f"{path}:1: header must be {','.join(columns)}")
            rows = [(reader.line_num, row) for row in reader]
    except UnicodeDecodeError as exc:
        raise GazetteerError(f"{path}: not UTF-8 text (byte {exc.start})") from None
    for line, row in rows:
        if None in row or any(v is None for v in row.values()):
            raise GazetteerError(f"{path}:{line}: expected {len(columns)} fields")
    return rows


def parse_place(path: Path, line: int, row: dict[str, str], expected_id: int) -> Place:
    """One places.csv row; ids are 0, 1, 2… in file order."""
    if row["id"] != str(expected_id):
        raise GazetteerError(f"{path}:{line}: id must be {expected_id}, got {row['id']!r}")
    if row["kind"] not in KINDS:
        raise GazetteerError(f"{path}:{line}: unknown kind {row['kind']!r}")
    if not row["name"] or not row["municipality"]:
        raise GazetteerError(f"{path}:{line}: empty name or municipality")
    if not row["weight"].isdigit():
        raise GazetteerError(f"{path}:{line}: weight is not a whole number: {row['weight']!r}")
    return Place(expected_id, row["kind"], row["name"], row["type"], row["municipality"],
                 row["okrug"], int(row["weight"]))


def parse_entry(path: Path, line: int, row: dict[str, str], places: tuple[Place, ...]) -> Entry:
    """One names.csv row."""
    pid = row["place"]
    if not pid.isdigit() or int(pid) >= len(places):
        raise GazetteerError(f"{path}:{line}: unknown place {pid!r}")
    if row["cue"] not in ("0", "1", "2") or not row["key"].strip():
        raise GazetteerError(f"{path}:{line}: empty key or cue not 0/1/2")
    try:
        confidence = float(row["confidence"])
    except ValueError:
        raise GazetteerError(f"{path}:{line}: confidence is not a number: {row['confidence']!r}") from None
    if not 0.0 < confidence <= 1.0:
        raise GazetteerError(f"{path}:{line}: confidence out of (0, 1]")
    return Entry(places[int(pid)], row["via"], int(row["cue"]), confidence)


def load_from(folder: Path, region: str) -> Gazetteer:
    """Read and validate places.csv and names.csv of one region folder."""
    ppath, npath = folder / "places.csv", folder / "names.csv"
    places = tuple(parse_place(ppath, line, row, i) for i, (line, row) in enumerate(read_csv(ppath, PLACE_COLUMNS)))
    index: dict[tuple[str, ...], list[Entry]] = {}
    for line, row in read_csv(npath, NAME_COLUMNS):
        index.setdefault(tuple(row["key"].split()), []).append(parse_entry(npath, line, row, places))
    longest: dict[str, int] = {}
    for key in index:
        longest[key[0]] = max(longest.get(key[0], 0), len(key))
    homes = {p.name: p.municipality for p in places if p.kind != "settlement"}
    prefixes = frozenset(k[0] for k, entries in index.items()
                         if len(k) > 1 and any(e.place.kind == "settlement" for e in entries))
    urban = frozenset(p.name for p in places if p.kind == "municipality" and p.type.startswith(URBAN_TYPES))
    return Gazetteer(region, places, {k: tuple(v) for k, v in index.items()}, longest, homes, prefixes, urban)


DEFAULT = {"region": "crimea", "root": REGIONS}  # what locate() uses unless told; see use_region()


def use_region(region: str, root: Path | None = None) -> Gazetteer:
    """Load `root`/<region>/ (default config/regions) and make it the default of locate() and load_gazetteer().

    Example: use_region(settings.region, settings.config_dir / "regions")  # at start-up, errors name the file
    """
    root = Path(root) if root is not None else REGIONS
    gaz = load_gazetteer(region, root)
    DEFAULT.update(region=region, root=root)
    return gaz


def load_gazetteer(region: str | None = None, root: Path | None = None) -> Gazetteer:
    """The cached gazetteer of `region` from `root`/<region>/ (defaults: see use_region; GazetteerError names
    file and line)."""
    return _load_cached(region or DEFAULT["region"], Path(root) if root is not None else DEFAULT["root"])


@lru_cache(maxsize=8)
def _load_cached(region: str, root: Path) -> Gazetteer:
    return load_from(root / region, region)
