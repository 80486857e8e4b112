"""Golden table of the geo analyser: one hand-checked case per line of golden_geo.tsv."""
from __future__ import annotations

import csv
from pathlib import Path

import pytest

from nlp.geo import locate, locate_many

GOLDEN = Path(__file__).with_name("golden_geo.tsv")


def read_golden() -> list[tuple[str, str | None, str | None, str | None]]:
    """(text, home, municipality, settlement) rows; '-' means none."""
    with GOLDEN.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh, delimiter="\t", quoting=csv.QUOTE_NONE))
    none = lambda v: None if v == "-" else v  # noqa: E731
    return [(r["text"], none(r["home"]), none(r["municipality"]), none(r["settlement"])) for r in rows]


CASES = read_golden()


def test_golden_table_is_large_enough():
    assert len(CASES) >= 60


@pytest.mark.parametrize("text,home,municipality,settlement", CASES, ids=[c[0][:40] for c in CASES])
def test_golden(text, home, municipality, settlement):
    match = locate(text, home)
    assert (match.municipality, match.settlement) == (municipality, settlement), match.reason
    assert 0.0 <= match.confidence <= 1.0
    assert match.reason
    if match.evidence is not None:
        assert match.evidence in text


def test_locate_many_equals_locate():
    texts, homes = [c[0] for c in CASES], [c[1] for c in CASES]
    assert locate_many(texts, homes) == [locate(t, h) for t, h in zip(texts, homes)]
