"""The replay reader takes any file: every line ends up an item or a quarantined record, never an
exception; and whatever text gets through is storable on both databases without blocking the source."""
from __future__ import annotations

import json
import uuid

import pytest
import sqlalchemy as sa
from hypothesis import given
from hypothesis import strategies as st

from collectors.base import SourceConfig
from collectors.pseudonym import Pseudonymizer
from collectors.replay import ReplayCollector
from storage.items import load_cursor
from storage.sources import sync_sources
from storage.tables import Item, QuarantineRecord, Source
from tests.property.strategies import hostile_values, json_values, one_line, texts
from tests.property.test_adapters import SEEDS
from tsur.stages.collect import collect_source

PSEUDONYMIZE = Pseudonymizer(b"p" * 32)


def raw_item(text: str, item_id: str = "1") -> dict:
    return {"type": "raw_item", "source": "replay:x", "payload": {
        "platform": "vk", "source": "vk:wall:-1", "item_id": item_id,
        "published_at": "2026-11-20T10:00:00+03:00", "text": text}}


def encode(record) -> bytes:
    return json.dumps(record, ensure_ascii=True).encode()


no_newline = st.binary(max_size=200).map(lambda b: b.replace(b"\n", b" ").replace(b"\r", b" "))
lines = st.one_of(
    texts.map(lambda t: encode(raw_item(t))),
    st.sampled_from(SEEDS).map(encode),
    st.sampled_from(SEEDS).map(lambda s: encode(s)[: len(encode(s)) // 2]),  # truncated
    json_values.map(encode),
    no_newline,
    st.just(b""),
)


@given(st.lists(lines, max_size=25), st.integers(1, 7))
def test_any_file_is_read_to_the_end(tmp_path_factory, body, page_lines):
    path = tmp_path_factory.mktemp("replay") / "rec.jsonl"
    path.write_bytes(b"\n".join(body) + (b"\n" if body else b""))
    cfg = SourceConfig(key="replay:x", platform="replay", handle=str(path), options={"type": "replay"})
    pages = list(ReplayCollector(cfg, path, PSEUDONYMIZE, page_lines=page_lines).fetch(None))
    non_blank = sum(1 for line in body if line.decode("utf-8", "replace").strip())
    assert sum(len(p.items) + len(p.quarantined) for p in pages) == non_blank
    assert all(one_line(q.reason) for p in pages for q in p.quarantined)
    if body:
        assert pages[-1].cursor == {"line": len(body)}
        again = list(ReplayCollector(cfg, path, PSEUDONYMIZE).fetch(pages[-1].cursor))
        assert sum(len(p.items) for p in again) == 0  # resuming from the end reads nothing twice


RAW_FIELDS = ["platform", "source", "item_id", "parent_id", "kind", "published_at", "text", "url", "author", "raw"]
VK_FIELDS = ["id", "owner_id", "date", "text", "from_id", "signer_id", "attachments", "copy_history"]


def hostile_line(field_values: list[tuple[str, object]], vk: bool) -> bytes:
    """A raw_item (or a real VK post) with some fields replaced by hostile values; NaN/Infinity spelled as JSON
    extensions, as Python's json writes them."""
    seed = next(r for r in SEEDS if r["type"] == "vk_post") if vk else raw_item("нет воды", "h")
    payload = {**seed["payload"], **dict(field_values)}
    return json.dumps({**seed, "payload": payload}, ensure_ascii=True).encode()


hostile_lines = st.one_of(
    lines,
    st.builds(hostile_line, st.lists(st.tuples(st.sampled_from(RAW_FIELDS), hostile_values), min_size=1, max_size=3),
              st.just(False)),
    st.builds(hostile_line, st.lists(st.tuples(st.sampled_from(VK_FIELDS), hostile_values), min_size=1, max_size=3),
              st.just(True)),
)


@given(st.lists(hostile_lines, min_size=1, max_size=12), st.integers(1, 7))
def test_any_file_is_stored_to_the_end(fuzz_sessions, tmp_path_factory, body, page_lines):
    """End to end (adapt, check, store) on SQLite and PostgreSQL: the poll succeeds, the cursor reaches the
    end, and the database refuses nothing — every bad record was caught by the checks, not by a column."""
    path = tmp_path_factory.mktemp("replay") / "rec.jsonl"
    path.write_bytes(b"\n".join(body) + b"\n")
    cfg = SourceConfig(key=f"replay:{uuid.uuid4().hex}", platform="replay", handle=str(path),
                       options={"type": "replay"})
    with fuzz_sessions.begin() as s:
        sync_sources(s, [cfg])
    caught = sum(len(p.quarantined) for p in ReplayCollector(cfg, path, PSEUDONYMIZE, page_lines).fetch(None))
    outcome = collect_source(fuzz_sessions, cfg.key, ReplayCollector(cfg, path, PSEUDONYMIZE, page_lines),
                             worker="fuzz")
    assert outcome.status == "ok", outcome.error
    assert outcome.quarantined == caught  # nothing left for the storage safety net
    with fuzz_sessions() as s:
        source_id = s.scalar(sa.select(Source.id).where(Source.key == cfg.key))
        assert load_cursor(s, source_id) == {"line": len(body)}
        reasons = s.scalars(sa.select(QuarantineRecord.reason).where(QuarantineRecord.source == cfg.key))
        assert all(one_line(r) for r in reasons)


VK_SEED = next(r for r in SEEDS if r["type"] == "vk_post")
NASTY = {
    "emoji": "🚰💧🔥" * 50,
    "nul": "нет\u0000воды",
    "lone_surrogate": "нет воды \ud83d",
    "huge": "яма на дороге " * 80_000,
    "rtl_and_controls": "\u202eмусор\u202c \x1b[31m \u2028 \ufeff",
    "empty": "",
}
VK_NASTY = {"vk_post_nul": "нет\u0000воды", "vk_post_lone_surrogate": "яма \udc00"}  # also in the raw payload
# Known gaps (see the ops report): these poison the page, so the source retries it for ever. The fix
# belongs where text enters (collectors' adapters / RawItem): replace lone surrogates with U+FFFD, drop NUL.
KNOWN_POISON: set[tuple[str, str]] = set()  # fixed by storage.sanitize (NUL, lone surrogates)


def nasty_record(name: str) -> dict:
    if name in VK_NASTY:
        payload = {**VK_SEED["payload"], "id": 777, "text": VK_NASTY[name]}
        return {"type": "vk_post", "source": VK_SEED["source"], "payload": payload}
    return raw_item(NASTY[name], "2")


@pytest.mark.parametrize("name", sorted(NASTY) + sorted(VK_NASTY))
def test_nasty_text_is_stored_or_quarantined_and_the_source_moves_on(request, sessions, tmp_path, name):
    if (name, sessions.kw["bind"].dialect.name) in KNOWN_POISON:
        request.applymarker(pytest.mark.xfail(strict=True, reason="poison text blocks the source; fix in adapters"))
    path = tmp_path / "rec.jsonl"
    records = [raw_item("до"), nasty_record(name), raw_item("после", "3")]
    path.write_text("\n".join(json.dumps(r, ensure_ascii=True) for r in records) + "\n", encoding="utf-8")
    cfg = SourceConfig(key="replay:x", platform="replay", handle=str(path), options={"type": "replay"})
    with sessions.begin() as s:
        sync_sources(s, [cfg])
    outcome = collect_source(sessions, cfg.key, ReplayCollector(cfg, path, PSEUDONYMIZE, page_lines=1), worker="w")
    assert outcome.status == "ok", outcome.error
    with sessions() as s:
        ids = set(s.scalars(sa.select(Item.item_id)))
        quarantined = s.scalar(sa.select(sa.func.count()).select_from(QuarantineRecord))
        cursor = load_cursor(s, s.scalar(sa.select(Source.id)))
    assert {"1", "3"} <= ids and len(ids) + quarantined == 3 and cursor == {"line": 3}


def test_a_growing_file_is_read_as_it_grows(tmp_path):
    """A writer appending a line: the half-written tail waits for the next poll, nothing is quarantined or lost."""
    path = tmp_path / "rec.jsonl"
    first, second = encode(raw_item("нет воды", "1")), encode(raw_item("яма на дороге", "2"))
    path.write_bytes(first + b"\n" + second[:20])
    cfg = SourceConfig(key="replay:x", platform="replay", handle=str(path), options={"type": "replay"})
    collector = ReplayCollector(cfg, path, PSEUDONYMIZE)
    pages = list(collector.fetch(None))
    assert [i.item_id for p in pages for i in p.items] == ["1"] and not any(p.quarantined for p in pages)
    assert pages[-1].cursor == {"line": 1}
    path.write_bytes(first + b"\n" + second)  # the rest arrives, still without a final newline
    again = list(collector.fetch(pages[-1].cursor))
    assert [i.item_id for p in again for i in p.items] == ["2"] and again[-1].cursor == {"line": 2}
