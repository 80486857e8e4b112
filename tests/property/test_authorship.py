"""Authorship on any stored payload: an answer (True, False or None), never an error; comments never the source's;
a stored payload gives the same answer when it is replayed."""
from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from collectors.adapters import adapt_record
from collectors.authorship import written_by_source
from collectors.errors import SkipItem
from tests.property.strategies import json_values
from tests.property.test_adapters import PSEUDONYMIZE, SEEDS, SOURCE, mutate, paths


def answer(item) -> bool | None:
    return written_by_source(item.platform, item.kind, item.source, item.raw)


@given(st.sampled_from(SEEDS), st.data(), json_values, st.booleans())
def test_mutated_real_records(seed, data, new, delete):
    payload = mutate(seed["payload"], data.draw(st.sampled_from(list(paths(seed["payload"])))), new, delete)
    try:
        item = adapt_record(seed["type"], payload, SOURCE, PSEUDONYMIZE)
    except SkipItem:
        return
    found = answer(item)
    assert found is True or found is False or found is None
    if item.kind == "comment":
        assert found is False
    assert answer(adapt_record(seed["type"], item.raw, SOURCE, PSEUDONYMIZE)) is found


@given(st.sampled_from(["vk", "tg", "web", "replay", "", None]), st.sampled_from(["post", "comment", "article", None]),
       st.sampled_from(["vk:wall:-1", "vk:wall:x", "vk:search:q", "tg:channel:c", "web:https://a.ru", "replay:x", ""]),
       json_values)
def test_any_fields(platform, kind, source, raw):
    found = written_by_source(platform, kind, source, raw)
    assert (found is True or found is False or found is None) and (kind != "comment" or found is False)
