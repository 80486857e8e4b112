"""Adapters take any recorded payload: a RawItem comes out, or SkipItem with a one-line reason."""
from __future__ import annotations

import copy
import json
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from collectors.adapters import ADAPTERS, adapt_record
from collectors.adapters.people import KEPT_AT_TOP, PEOPLE, is_person
from collectors.base import SourceConfig
from collectors.errors import SkipItem
from collectors.pseudonym import Pseudonymizer, is_pseudonym
from tests.property.strategies import json_values, one_line, texts
from tsur.records import RawItem

DEMO = Path(__file__).resolve().parents[2] / "samples" / "demo.jsonl"
SEEDS = [json.loads(line) for line in DEMO.read_text(encoding="utf-8").splitlines() if line.strip()]
SOURCE = SourceConfig(key="vk:wall:-1", platform="vk", handle="-1", options={"type": "vk_wall"})
PSEUDONYMIZE = Pseudonymizer(b"p" * 32)


def check(type_: str, payload) -> None:
    """The adapter contract: a sane RawItem, or SkipItem with a one-line message."""
    try:
        item = adapt_record(type_, payload, SOURCE, PSEUDONYMIZE)
    except SkipItem as exc:
        assert one_line(exc), repr(str(exc))
        return
    assert isinstance(item, RawItem) and isinstance(item.text, str)
    assert isinstance(item.item_id, str) and item.item_id
    assert item.published_at.tzinfo is not None
    json.dumps(item.raw)  # what is stored must serialise
    assert people_left(item.raw, type_.split("_")[0]) == []
    again = adapt_record(type_, item.raw, SOURCE, PSEUDONYMIZE)  # a stored payload replays as it was
    assert again == item and again.raw == item.raw


def people_left(raw, platform: str, top: bool = True) -> list:
    """Real user ids or names under the keys that hold people (the wall's own top-level owner_id aside)."""
    if isinstance(raw, list):
        return [p for v in raw for p in people_left(v, platform, False)]
    if not isinstance(raw, dict):
        return []
    out = []
    for key, value in raw.items():
        if key in PEOPLE.get(platform, ()) and not (top and key in KEPT_AT_TOP.get(platform, ())):
            out += [v for v in (value if isinstance(value, list) else [value])
                    if is_person(v) and not is_pseudonym(platform, v)]
        out += people_left(value, platform, False)
    return out


def paths(value, prefix=()):
    """Every (path) into nested dicts/lists."""
    yield prefix
    if isinstance(value, dict):
        for k, v in value.items():
            yield from paths(v, prefix + (k,))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from paths(v, prefix + (i,))


def mutate(payload, path, new, delete: bool):
    out = copy.deepcopy(payload)
    if not path:
        return new
    parent = out
    for step in path[:-1]:
        parent = parent[step]
    if delete and isinstance(parent, dict):
        del parent[path[-1]]
    else:
        parent[path[-1]] = new
    return out


def test_seeds_are_valid_records():
    assert len(SEEDS) > 100 and {s["type"] for s in SEEDS} <= set(ADAPTERS)
    for seed in SEEDS:
        assert isinstance(adapt_record(seed["type"], seed["payload"], SOURCE, PSEUDONYMIZE), RawItem)


@given(st.sampled_from(sorted(ADAPTERS) + ["vk_photo", ""]), json_values)
def test_any_json_payload(type_, payload):
    check(type_, payload)


@given(st.sampled_from(SEEDS), st.data(), json_values, st.booleans())
def test_mutated_real_records(seed, data, new, delete):
    all_paths = list(paths(seed["payload"]))
    path = data.draw(st.sampled_from(all_paths))
    check(seed["type"], mutate(seed["payload"], path, new, delete))


@given(st.sampled_from(SEEDS), texts)
def test_any_text_in_real_records(seed, text):
    payload = dict(seed["payload"])
    key = "message" if seed["type"] == "tg_message" else ("summary" if seed["type"] == "web_entry" else "text")
    payload[key] = text
    check(seed["type"], payload)
