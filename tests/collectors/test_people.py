"""Stored raw payloads keep no user id or name: people are pseudonymised, communities and channels stay."""
from __future__ import annotations

import json

from telethon.tl import types

from collectors.adapters import adapt_many, adapt_record
from collectors.base import SourceConfig
from collectors.recording import RecordingCollector
from collectors.replay import ReplayCollector
from collectors.telegram import build as build_tg
from tests.collectors.conftest import NOW
from tests.collectors.fake_tg import FakeTelegram
from tests.collectors.vk_world import vk_collector, wall_config

OWNER = -100
USER, OTHER, SIGNER, REPOSTER = 150443210, 150443211, 150443212, 150443213
WALL = SourceConfig(key=f"vk:wall:{OWNER}", platform="vk", handle=str(OWNER), options={"type": "vk_wall"})
CHANNEL = SourceConfig(key="tg:channel:simf_news", platform="tg", handle="simf_news", options={"type": "tg_channel"})
REPLAY = SourceConfig(key="replay:x", platform="replay", handle="x", options={"type": "replay"})


def values(raw):
    """Every scalar in a payload."""
    if isinstance(raw, dict):
        return [v for x in raw.values() for v in values(x)]
    if isinstance(raw, list):
        return [v for x in raw for v in values(x)]
    return [raw]


def leaks(raw, *people) -> list:
    """The ids (equal values) and names (inside strings) of `people` still present in a payload."""
    found = values(raw)
    return [p for p in people if any(v == p or isinstance(p, str) and isinstance(v, str) and p in v for v in found)]


def test_vk_comment_raw_has_the_authors_pseudonym_not_the_id(fake_vk, vk_url, settings, pseudonymize, clock):
    fake_vk.add_post(OWNER, 1, NOW - 600, "Нет воды")
    first = fake_vk.add_comment(OWNER, 1, 11, NOW - 500, "И у нас", from_id=USER)
    fake_vk.add_comment(OWNER, 1, 12, NOW - 400, "Ответ", from_id=OTHER, reply_to=first["id"])
    items = [i for p in vk_collector(wall_config(OWNER, vk_url), settings, pseudonymize, clock, NOW).fetch(None)
             for i in p.items]
    comment = next(i for i in items if i.item_id == "1_11")
    assert comment.raw["from_id"] == comment.author == pseudonymize("vk", USER)
    assert comment.raw["owner_id"] == OWNER and comment.url == f"https://vk.com/wall{OWNER}_1?reply=11"
    assert [leaks(i.raw, USER, OTHER) for i in items] == [[], [], []]


def test_vk_post_people_in_signer_reposts_and_attachments_are_pseudonymised(pseudonymize):
    post = {"id": 5, "owner_id": OWNER, "from_id": OWNER, "signer_id": SIGNER, "created_by": SIGNER, "date": NOW,
            "text": "Репост", "copy_history": [{"id": 9, "owner_id": REPOSTER, "from_id": REPOSTER, "date": NOW,
                                                 "text": "Яма", "post_type": "post"},
                                                {"id": 3, "owner_id": -200, "from_id": -200, "date": NOW, "text": "x"}],
            "attachments": [{"type": "photo", "photo": {"id": 1, "owner_id": USER, "user_id": USER, "text": ""}}]}
    item = adapt_record("vk_post", post, WALL, pseudonymize)
    assert item.author == item.raw["signer_id"] == pseudonymize("vk", SIGNER)
    assert leaks(item.raw, USER, SIGNER, REPOSTER) == []
    assert (item.raw["owner_id"], item.raw["from_id"], item.raw["copy_history"][1]["owner_id"]) == (OWNER, OWNER, -200)
    assert item.raw["copy_history"][0]["owner_id"] == pseudonymize("vk", REPOSTER)
    assert post["signer_id"] == SIGNER  # the collector's own payload is not changed


def test_telegram_comment_user_ids_and_names_are_pseudonymised_channel_ids_stay(pseudonymize):
    message = types.Message(
        id=501, peer_id=types.PeerChannel(2002), date=None, message="Когда дадут воду?", from_id=types.PeerUser(77),
        fwd_from=types.MessageFwdHeader(date=None, from_id=types.PeerUser(78), from_name="Иван Петров"),
        entities=[types.MessageEntityMentionName(offset=0, length=5, user_id=79)],
        replies=types.MessageReplies(replies=1, replies_pts=1, recent_repliers=[types.PeerUser(80)]),
        post_author="Мария Иванова")
    payload = {**json.loads(message.to_json()), "date": "2025-11-23T12:00:00+00:00", "post_id": 2}
    item = adapt_record("tg_message", payload, CHANNEL, pseudonymize)
    assert item.author == item.raw["from_id"]["user_id"] == pseudonymize("tg", 77)
    assert item.raw["peer_id"] == {"_": "PeerChannel", "channel_id": 2002}
    assert item.raw["fwd_from"]["from_name"] == pseudonymize("tg", "Иван Петров")
    assert leaks(item.raw, 77, 78, 79, 80, "Иван", "Мария") == []


def test_pseudonymised_payloads_replay_to_the_same_items_and_payloads(settings, pseudonymize, tmp_path):
    fake = FakeTelegram()
    fake.post(1, NOW - 300, "Пост", post_author="Мария Иванова")
    fake.comment(1, 501, NOW - 100, "Когда дадут воду?", user_id=77)
    collector = build_tg(CHANNEL, settings, pseudonymize, make_client=lambda: fake, now=lambda: NOW)
    live = [i for p in RecordingCollector(collector, tmp_path / "tg.jsonl").fetch(None) for i in p.items]
    replayed = [i for p in ReplayCollector(REPLAY, tmp_path / "tg.jsonl", pseudonymize).fetch(None) for i in p.items]
    assert replayed == live and [i.raw for i in replayed] == [i.raw for i in live]
    assert [i.author for i in live] == [pseudonymize("tg", "Мария Иванова"), pseudonymize("tg", 77)]
    recorded = [json.loads(line) for line in (tmp_path / "tg.jsonl").read_text(encoding="utf-8").splitlines()]
    assert leaks(recorded, "Мария", 77) == []


def test_quarantined_payloads_are_pseudonymised_too(pseudonymize):
    _, (bad,) = adapt_many([("vk_comment", {"id": 1, "post_id": 2, "from_id": USER, "date": "yesterday"})],
                           WALL, pseudonymize)
    assert bad.raw["payload"]["from_id"] == pseudonymize("vk", USER)


def test_a_pseudonym_is_its_own_pseudonym(pseudonymize):
    assert pseudonymize("vk", pseudonymize("vk", USER)) == pseudonymize("vk", USER)
    assert pseudonymize("tg", pseudonymize("vk", USER)) != pseudonymize("vk", USER)
