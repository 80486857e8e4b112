"""Adapters take any recorded payload: a RawItem comes out, or SkipItem with a one-line reason."""
from __future__ import annotations

import copy
import json
import uuid
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import quote

import sqlalchemy as sa
from hypothesis import given
from hypothesis import strategies as st

from collectors.adapters import ADAPTERS, adapt_many, adapt_record
from collectors.adapters.people import KEPT_AT_TOP, PEOPLE, is_person
from collectors.base import SourceConfig
from collectors.errors import SkipItem
from collectors.pseudonym import Pseudonymizer, is_pseudonym
from storage.items import save_page
from storage.tables import Item, Source
from tests.property.strategies import hostile_values, json_values, one_line, texts
from tsur.records import Page, RawItem

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


urls = st.builds(lambda path: "https://example.ru/" + quote(path, errors="replace"), st.text(max_size=200))
links = texts.map(lambda t: f"<p>{t}</p><a href='https://x.ru/{quote(t[:50], errors='replace')}'>x</a>")
stamps = st.datetimes(min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30),
                      timezones=st.sampled_from([timezone.utc, None])).map(lambda d: d.isoformat())
web_entries = st.fixed_dictionaries(
    {"url": st.one_of(urls, hostile_values), "title": texts,
     "summary": st.one_of(texts, links),
     "published": st.one_of(st.none(), stamps, hostile_values)},
    optional={"id": st.one_of(urls, hostile_values), "fetched": stamps})
WEB = SourceConfig(key="web:https://example.ru/rss", platform="web", handle="https://example.ru/rss", kind="web")


def store_adapted(sessions, records: list[tuple[str, dict]], source: SourceConfig) -> None:
    """Adapt (with the checks) and store on the given database: the database refuses nothing."""
    items, bad = adapt_many(records, source, PSEUDONYMIZE)
    with sessions.begin() as s:
        row = Source(key=f"fuzz:{uuid.uuid4().hex}", platform=source.platform, handle=source.handle)
        s.add(row)
        s.flush()
        saved = save_page(s, row, Page(items, None, bad))
    assert saved.quarantined == len(bad)  # nothing left for the storage safety net
    assert all(one_line(q.reason) for q in bad)
    with sessions() as s:
        for i in items:
            assert s.scalar(sa.select(Item.text).where(Item.source == i.source, Item.item_id == i.item_id)) is not None


@given(st.lists(web_entries, min_size=1, max_size=5))
def test_web_entries_store_on_both_databases(fuzz_sessions, entries):
    store_adapted(fuzz_sessions, [("web_entry", e) for e in entries], WEB)


@given(st.sampled_from(SEEDS), st.data(), hostile_values, st.booleans())
def test_mutated_real_records_store_on_both_databases(fuzz_sessions, seed, data, new, delete):
    path = data.draw(st.sampled_from(list(paths(seed["payload"]))))
    store_adapted(fuzz_sessions, [(seed["type"], mutate(seed["payload"], path, new, delete))], SOURCE)
