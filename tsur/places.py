"""The region's place names as people and exports type them: one resolver for municipalities and settlements.

Used by the label import, the CLI's corrections and `sources add`, so «Ялта», «г. Ялта» and «городской округ
Ялта» mean the same everywhere.

Example:
    places = load_places(Path("config"))
    places.municipality("г. Ялта") == "городской округ Ялта"
    places.settlement("пгт Гаспра", "городской округ Ялта") == "Гаспра"   # ValueError when unknown / elsewhere
"""
from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

_CITY_PREFIX = re.compile(r"^(городской округ|г\.?\s*о\.?|го|г\.|город)\s+", re.IGNORECASE)
_SETTLEMENT_PREFIX = re.compile(r"^(?:(?:г|пгт|с|пос|п)\.\s*|(?:город|пгт|село|посёлок|поселок)\s+)", re.IGNORECASE)


def norm(value: object) -> str:
    """Comparable form of a name: no ★, single spaces, ё → е, case-folded."""
    return " ".join(str(value).replace("★", "").replace("ё", "е").replace("Ё", "Е").split()).casefold()


def municipality_forms(name: str) -> set[str]:
    """Names an export may use for a municipality: «городской округ Ялта» → also «Ялта», «г. Ялта», «го Ялта»."""
    forms = {norm(name)}
    short = _CITY_PREFIX.sub("", name).strip()
    if short != name:
        forms |= {norm(short), norm(f"г. {short}"), norm(f"г.о. {short}"), norm(f"го {short}")}
    return forms


def _rows(path: Path) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


@dataclass(frozen=True)
class Places:
    """Municipalities (every accepted form → canonical name) and settlements (name → municipality → name)."""

    municipalities: dict[str, str]
    settlements: dict[str, dict[str, str]]
    source: str = "config/regions/*/places.csv"  # where settlements come from, for messages

    def municipality(self, name: str | None) -> str | None:
        """The canonical municipality for a typed name, or None if unknown."""
        return None if name is None else self.municipalities.get(norm(name))

    def settlement(self, name: str, municipality: str | None = None) -> str:
        """The canonical settlement name, checked against the municipality (canonical or typed) when given.

        Raises ValueError: «unknown settlement 'Марсоград'» or «'Гаспра' is not in 'городской округ Алушта' …».
        """
        found = self.settlements.get(norm(_SETTLEMENT_PREFIX.sub("", str(name).strip())))
        if not found:
            raise ValueError(f"unknown settlement {str(name).strip()!r}: see {self.source}")
        if municipality is None:
            return next(iter(found.values()))
        home = self.municipality(municipality) or municipality
        if home not in found:
            where = ", ".join(sorted(found))
            raise ValueError(f"settlement {str(name).strip()!r} is not in {home!r} (it is in {where})")
        return found[home]


@lru_cache(maxsize=8)
def load_places(config_dir: Path) -> Places:
    """Municipalities of config/routing_municipalities.csv and of every region's places.csv, and the settlements."""
    config_dir = Path(config_dir)
    names = [r["municipality"] for r in _rows(config_dir / "routing_municipalities.csv")]
    settlements: dict[str, dict[str, str]] = {}
    files = sorted((config_dir / "regions").glob("*/places.csv"))
    for places in files:
        for r in _rows(places):
            if r.get("kind") == "municipality":
                names.append(r["name"])
            elif r.get("kind") == "settlement":
                settlements.setdefault(norm(r["name"]), {})[r["municipality"]] = r["name"]
    municipalities = {form: name for name in names for form in municipality_forms(name)}
    return Places(municipalities, settlements, ", ".join(str(f) for f in files) or "places.csv")
