"""Live pages recorded to JSONL replay through collectors.replay into identical items."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from collectors.adapters import adapt_record
from collectors.base import SourceConfig
from collectors.errors import SkipItem
from collectors.recording import RecordingCollector
from collectors.replay import ReplayCollector
from collectors.telegram import build as build_tg
from collectors.web import build as build_web
from tests.collectors.conftest import NOW
from tests.collectors.fake_tg import FakeTelegram
from tests.collectors.vk_world import populate_wall, vk_collector, wall_config
from tests.collectors.web_server import FakeSite, SiteServer

REPLAY = SourceConfig(key="replay:x", platform="replay", handle="x", options={"type": "replay"})


def record_and_replay(collector, path: Path, pseudonymize):
    live = [i for p in RecordingCollector(collector, path).fetch(None) for i in p.items]
    replayed = [i for p in ReplayCollector(REPLAY, path, pseudonymize).fetch(None) for i in p.items]
    return live, replayed


def test_vk_wall_posts_and_comments_replay_identically(fake_vk, vk_url, settings, pseudonymize, clock, tmp_path):
    populate_wall(fake_vk, -100, NOW, posts=9, every_s=3600)
    live, replayed = record_and_replay(vk_collector(wall_config(-100, vk_url), settings, pseudonymize, clock, NOW),
                                       tmp_path / "vk.jsonl", pseudonymize)
    assert replayed == live and {i.kind for i in live} == {"post", "comment"}
    first = json.loads((tmp_path / "vk.jsonl").read_text().splitlines()[0])
    assert first["type"] == "vk_post" and first["source"] == "vk:wall:-100" and first["payload"]["id"] == 9


def test_telegram_messages_replay_identically(settings, pseudonymize, tmp_path):
    fake = FakeTelegram()
    fake.post(1, NOW - 100, "Пост 🙂")
    fake.comment(1, 7, NOW - 50, "Коммент")
    cfg = SourceConfig(key="tg:channel:simf_news", platform="tg", handle="simf_news")
    collector = build_tg(cfg, settings, pseudonymize, make_client=lambda: fake, now=lambda: NOW)
    live, replayed = record_and_replay(collector, tmp_path / "tg.jsonl", pseudonymize)
    assert replayed == live and [i.item_id for i in live] == ["1", "1_7"]


def test_web_entries_replay_identically(settings, pseudonymize, clock, tmp_path):
    site = FakeSite()
    site.put("/rss", (Path(__file__).parent / "fixtures" / "web" / "feed.xml").read_bytes(), "application/rss+xml")
    with SiteServer(site) as base:
        cfg = SourceConfig(key=f"web:{base}/rss", platform="web", handle=f"{base}/rss", kind="web")
        live, replayed = record_and_replay(build_web(cfg, settings, pseudonymize, clock=clock, now=lambda: NOW),
                                           tmp_path / "web.jsonl", pseudonymize)
    assert replayed == live and len(live) == 2


@pytest.mark.parametrize("type_, payload, reason", [
    ("vk_post", {"id": "x", "date": 1}, "vk_post x: missing or non-integer 'id'"),
    ("vk_comment", {"id": 1, "date": 1, "text": "t", "owner_id": -1}, "vk_comment 1: missing or non-integer 'post_id'"),
    ("tg_message", {"_": "MessageService", "id": 3}, "tg_message 3: not a Message: 'MessageService'"),
    ("web_entry", {"url": "https://x.ru/1", "published": "вчера", "title": "t"}, "web_entry ?: bad timestamp 'вчера'"),
    ("fb_post", {}, "unknown record type 'fb_post'"),
])
def test_malformed_payloads_raise_skip_item_with_a_reason(type_, payload, reason, pseudonymize):
    cfg = SourceConfig(key="vk:wall:-1", platform="vk", handle="-1")
    with pytest.raises(SkipItem) as err:
        adapt_record(type_, payload, cfg, pseudonymize)
    assert str(err.value) == reason
