"""The bundled demo sample: well-formed records, VK payloads valid against VK's schema, TG payloads real Messages."""
from __future__ import annotations

import copy
import importlib.util
import json
import sys
from collections import Counter
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import unquote, urlparse

import pytest
import telethon.tl.types as tl
from jsonschema import Draft7Validator
from referencing import Registry
from referencing.jsonschema import DRAFT7

from collectors.adapters import adapt_record
from collectors.base import SourceConfig
from collectors.sources_file import load_sources

SAMPLES = Path(__file__).resolve().parents[1] / "samples"
DEMO = SAMPLES / "demo.jsonl"
START, END = datetime(2026, 11, 16, tzinfo=timezone.utc), datetime(2026, 11, 23, tzinfo=timezone.utc)
VK_OBJECTS = {"vk_post": "wall_wallpost_full", "vk_comment": "wall_wall_comment"}


@pytest.fixture(scope="module")
def records() -> list[dict]:
    with open(DEMO, encoding="utf-8") as fh:
        return [json.loads(line) for line in fh]


def draft7_required(node):
    """VK's schema marks required properties draft-3 style ("required": true); turn them into draft-7 lists."""
    if isinstance(node, list):
        return [draft7_required(v) for v in node]
    if not isinstance(node, dict):
        return node
    out = {k: draft7_required(v) for k, v in node.items() if not (k == "required" and isinstance(v, bool))}
    out.pop("$schema", None)
    props = node.get("properties")
    if isinstance(props, dict):
        names = [k for k, v in props.items() if isinstance(v, dict) and v.get("required") is True]
        if names:
            out["required"] = sorted(set(names) | set(out.get("required") or []))
    return out


@pytest.fixture(scope="module")
def vk_validators(shared_data: Path) -> dict[str, Draft7Validator]:
    folder = shared_data / "vk_api_schema"

    def retrieve(uri: str):
        path = Path(unquote(urlparse(uri).path))
        if folder.resolve() not in path.resolve().parents:
            raise LookupError(f"{uri} is outside {folder}")
        return DRAFT7.create_resource(draft7_required(json.loads(path.read_text(encoding="utf-8"))))

    registry = Registry(retrieve=retrieve)
    wall = (folder / "wall" / "objects.json").resolve().as_uri()
    return {t: Draft7Validator({"$ref": f"{wall}#/definitions/{name}"}, registry=registry)
            for t, name in VK_OBJECTS.items()}


def rebuild(value, key: str = ""):
    """Turn telethon's JSON form back into TL objects with telethon's own constructors."""
    if isinstance(value, list):
        return [rebuild(v) for v in value]
    if isinstance(value, dict):
        fields = {k: rebuild(v, k) for k, v in value.items() if k != "_"}
        return getattr(tl, value["_"])(**fields) if "_" in value else fields
    if isinstance(value, str) and key.endswith("date"):
        return datetime.fromisoformat(value)
    return value


def published(record: dict) -> datetime:
    date = record["payload"]["date"]
    return datetime.fromtimestamp(date, tz=timezone.utc) if isinstance(date, int) else datetime.fromisoformat(date)


def test_every_line_is_a_replay_record(records):
    assert 120 <= len(records) <= 200
    for n, rec in enumerate(records, 1):
        assert set(rec) == {"type", "source", "payload"}, f"line {n}"
        assert rec["type"] in ("vk_post", "vk_comment", "tg_message"), f"line {n}"
        prefix = "vk:wall:-" if rec["type"].startswith("vk") else "tg:channel:"
        assert rec["source"].startswith(prefix), f"line {n}: {rec['source']}"
    assert len({r["source"] for r in records}) == 9


def test_vk_payloads_match_vk_api_schema(records, vk_validators):
    errors = [f"line {n}: {e.json_path}: {e.message}" for n, rec in enumerate(records, 1)
              if rec["type"] in VK_OBJECTS for e in vk_validators[rec["type"]].iter_errors(rec["payload"])]
    assert errors == []


def test_vk_schema_check_rejects_broken_payloads(records, vk_validators):
    post = copy.deepcopy(next(r["payload"] for r in records if r["type"] == "vk_post"))
    post["likes"]["count"] = "many"
    comment = copy.deepcopy(next(r["payload"] for r in records if r["type"] == "vk_comment"))
    del comment["text"]
    assert not vk_validators["vk_post"].is_valid(post)
    assert not vk_validators["vk_comment"].is_valid(comment)


def test_vk_owner_matches_source_and_comments_match_posts(records):
    posts = {(r["source"], r["payload"]["id"]): r["payload"] for r in records if r["type"] == "vk_post"}
    comments = [r for r in records if r["type"] == "vk_comment"]
    for rec in [*posts.values(), *(c["payload"] for c in comments)]:
        assert rec["owner_id"] < 0
    per_post = Counter((c["source"], c["payload"]["post_id"]) for c in comments)
    for (source, post_id), post in posts.items():
        assert source == f"vk:wall:{post['owner_id']}"
        assert post["comments"]["count"] == per_post[(source, post_id)]
    for c in comments:
        post = posts[(c["source"], c["payload"]["post_id"])]
        assert c["payload"]["date"] > post["date"]
    replies = [c["payload"] for c in comments if c["payload"].get("reply_to_comment")]
    assert replies and all(len(r["parents_stack"]) == 1 for r in replies)


def test_tg_payloads_rebuild_as_telethon_messages(records):
    tg = [r["payload"] for r in records if r["type"] == "tg_message"]
    for payload in tg:
        fields = {k: v for k, v in payload.items() if k != "post_id"}
        message = rebuild(fields)
        assert isinstance(message, tl.Message)
        assert json.loads(message.to_json()) == fields


def test_tg_comments_belong_to_the_channels_discussion_group(records):
    posts = {(r["source"], r["payload"]["id"]): r["payload"] for r in records
             if r["type"] == "tg_message" and "post_id" not in r["payload"]}
    comments = [r for r in records if r["type"] == "tg_message" and "post_id" in r["payload"]]
    assert comments
    for c in comments:
        post = posts[(c["source"], c["payload"]["post_id"])]
        assert post["post"] is True and c["payload"]["peer_id"]["channel_id"] == post["replies"]["channel_id"]
        assert c["payload"]["reply_to"]["reply_to_msg_id"] < c["payload"]["id"] <= post["replies"]["max_id"]
        assert c["payload"]["from_id"]["_"] == "PeerUser"


def test_dates_are_utc_in_the_sample_week_and_in_order(records):
    dates = [published(r) for r in records]
    assert all(d.utcoffset().total_seconds() == 0 and START <= d < END for d in dates)
    assert dates == sorted(dates)


def test_ids_are_unique_per_source(records):
    keys = Counter((r["source"], (r["payload"].get("peer_id") or {}).get("channel_id"), r["payload"]["id"])
                   for r in records)
    assert [k for k, n in keys.items() if n > 1] == []


def test_every_record_adapts_to_a_distinct_raw_item(records):
    configs = {src.key: src for src in load_sources(SAMPLES / "sources.toml")}
    assert [k for k, c in configs.items() if c.enabled] == ["replay:samples/demo.jsonl"]
    assert {r["source"] for r in records} == {k for k, c in configs.items() if not c.enabled}
    replay = configs["replay:samples/demo.jsonl"]
    items = [adapt_record(r["type"], r["payload"], _as_source(replay, r["source"]), _pseudonymize)
             for r in records]
    assert len({(i.source, i.item_id) for i in items}) == len(records)
    assert all(i.text.strip() for i in items)
    assert sum(i.kind == "comment" for i in items) == sum("post_id" in r["payload"] for r in records)


def _as_source(replay: SourceConfig, key: str) -> SourceConfig:
    return SourceConfig(key=key, platform=key.split(":")[0], handle=key.split(":", 2)[-1], kind=replay.kind)


def _pseudonymize(platform: str, author) -> str | None:
    return None if author is None else f"{platform}:{author}"


def test_generator_reproduces_the_sample(tmp_path, monkeypatch):
    spec = importlib.util.spec_from_file_location("make_demo", SAMPLES / "make_demo.py")
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, "make_demo", module)
    spec.loader.exec_module(module)
    assert module.main([str(tmp_path / "demo.jsonl")]) == 0
    assert (tmp_path / "demo.jsonl").read_bytes() == DEMO.read_bytes()
