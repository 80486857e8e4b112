"""Geo resolution does work linear in the number of place mentions (it was quadratic: 4,000 mentions
took 3.4 s and a 1 MB place-heavy post minutes). Counted, not timed: the Python lines run in
nlp/geo/resolve.py (and matcher.py) for one text, which is deterministic."""
from __future__ import annotations

import sys

import nlp.geo.matcher as matcher
import nlp.geo.resolve as resolve
from nlp.geo import locate
from nlp.geo.gazetteer import load_gazetteer
from nlp.geo.matcher import find_mentions

# Towns, an ambiguous ordinary word, a village with a cue, a route: every path of the resolver.
UNIT = "Ялта, Симферополь, Мирное, Солнечный, с. Заречное, трасса Керчь — Феодосия, Массандра. "
PER_UNIT = 8


def lines_run(mentions: list, home: str | None, urban: bool) -> int:
    """Lines of resolve.py executed by answer() on these mentions."""
    count = 0

    def tracer(frame, event, arg):
        nonlocal count
        if frame.f_code.co_filename != resolve.__file__:
            return None
        if event == "line":
            count += 1
        return tracer

    previous = sys.gettrace()
    sys.settrace(tracer)
    try:
        resolve.answer(mentions, home, urban)
    finally:
        sys.settrace(previous)
    return count


def mentions_of(n: int) -> list:
    text = UNIT * (n // PER_UNIT)
    mentions = find_mentions(text, load_gazetteer("crimea"))
    assert len(mentions) == n // PER_UNIT * PER_UNIT
    return mentions


def test_resolving_4000_mentions_takes_a_bounded_number_of_steps():
    mentions = mentions_of(4000)
    for home, urban in ((None, False), ("городской округ Керчь", True), ("Симферопольский район", False)):
        assert lines_run(mentions, home, urban) < 150 * len(mentions)  # ~70 now; quadratic was ~1,000s


def test_work_grows_linearly_with_the_mentions():
    small, large = mentions_of(2000), mentions_of(8000)
    ratio = lines_run(large, None, False) / lines_run(small, None, False)
    assert ratio < 5, f"4x the mentions cost {ratio:.1f}x the work (quadratic would be ~16x)"


MATCHER_AND_RESOLVER = {resolve.__file__, matcher.__file__}
ISSUE_UNIT = "Симферополь, Керчь, Ялта, ул. Ленина "  # issue 13's post: three places and a street, repeated


def lines_locating(text: str) -> int:
    """Lines of matcher.py and resolve.py executed by locate() on one text."""
    count = 0

    def tracer(frame, event, arg):
        nonlocal count
        if frame.f_code.co_filename not in MATCHER_AND_RESOLVER:
            return None
        if event == "line":
            count += 1
        return tracer

    previous = sys.gettrace()
    sys.settrace(tracer)
    try:
        locate(text)
    finally:
        sys.settrace(previous)
    return count


def test_a_post_repeating_places_8000_times_reads_as_one_naming_them_twice():
    assert locate(ISSUE_UNIT * 8000) == locate(ISSUE_UNIT * 2)


def test_finding_and_resolving_mentions_is_linear_in_their_number():
    small, large = lines_locating(ISSUE_UNIT * 1000), lines_locating(ISSUE_UNIT * 4000)
    assert large / small < 4.4, f"4x the mentions cost {large / small:.1f}x the work (quadratic would be ~16x)"


def test_a_route_as_long_as_the_post_is_quoted_short_in_the_reason():
    match = locate("Керчь — Симферополь — Ялта — Алушта — " * 500)
    assert match.municipality == "городской округ Керчь" and len(match.reason) < 300
    assert "only the route «Керчь — Симферополь — Ялта — Алушта — Керчь" in match.reason
