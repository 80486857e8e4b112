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


def test_vk_mentions_id_links_and_profiles_are_pseudonymised_communities_stay(pseudonymize):
    """A wall post as VK serves it (extended: with profiles and groups): no user id, name or photo survives."""
    text = (f"[id{USER}|Иван Петров], у вас тоже нет воды? Пишите https://vk.com/id{OTHER}, "
            f"[club100|Водоканал Симферополь] молчит, vk.com/club100")
    post = {"id": 7, "owner_id": OWNER, "from_id": USER, "date": NOW, "text": text, "post_type": "post",
            "attachments": [{"type": "link", "link": {"url": f"https://m.vk.com/id{OTHER}", "title": "Профиль"}}],
            "profiles": [{"id": USER, "first_name": "Иван", "last_name": "Петров", "screen_name": "ivan.petrov",
                          "photo_50": "https://sun9-1.userapi.com/ivan.jpg", "sex": 2, "online": 0}],
            "groups": [{"id": 100, "name": "Водоканал Симферополь", "screen_name": "club100", "is_closed": 0}]}
    item = adapt_record("vk_post", post, WALL, pseudonymize)
    user, other = pseudonymize("vk", USER), pseudonymize("vk", OTHER)
    assert item.text.startswith(f"[{user}|…], у вас тоже нет воды? Пишите https://vk.com/{other}, ")
    assert "[club100|Водоканал Симферополь] молчит, vk.com/club100" in item.text
    assert item.raw["profiles"] == [{"id": user}] and item.raw["groups"] == post["groups"]
    assert leaks([item.text, item.raw], USER, OTHER, str(USER), str(OTHER), "Иван", "Петров", "ivan", "sun9") == []
    again = adapt_record("vk_post", item.raw, WALL, pseudonymize)
    assert (again.text, again.raw) == (item.text, item.raw)  # stored payloads replay to the same item


def raw_item_line(**payload) -> str:
    base = {"platform": "vk", "source": "vk:wall:-100", "item_id": "1", "text": f"[id{USER}|Иван] нет воды",
            "published_at": "2026-11-16T08:00:00+00:00", "author": USER,
            "raw": {"owner_id": OWNER, "from_id": USER, "text": f"[id{USER}|Иван] нет воды"}}
    return json.dumps({"type": "raw_item", "source": "vk:wall:-100", "payload": {**base, **payload}},
                      ensure_ascii=False) + "\n"


def test_replayed_raw_items_are_pseudonymised_like_adapted_items(pseudonymize, tmp_path):
    path = tmp_path / "rec.jsonl"
    path.write_text(raw_item_line() + raw_item_line(item_id="2", published_at="yesterday"), encoding="utf-8")
    (page,) = ReplayCollector(REPLAY, path, pseudonymize).fetch(None)
    (item,), (bad,) = page.items, page.quarantined
    assert item.author == item.raw["from_id"] == pseudonymize("vk", USER)
    assert leaks([item.text, item.raw, bad.raw], USER, str(USER), "Иван") == []
    assert json.loads(bad.raw["line"])["payload"]["author"] == pseudonymize("vk", USER)


def test_stored_raw_items_and_quarantine_rows_keep_no_author(sessions, pseudonymize, tmp_path):
    import sqlalchemy as sa

    from storage.sources import sync_sources
    from storage.tables import Item, QuarantineRecord
    from tsur.stages.collect import collect_source

    path = tmp_path / "rec.jsonl"
    path.write_text(raw_item_line() + raw_item_line(item_id="2", published_at="yesterday"), encoding="utf-8")
    with sessions.begin() as s:
        sync_sources(s, [REPLAY])
    out = collect_source(sessions, REPLAY.key, ReplayCollector(REPLAY, path, pseudonymize), worker="w")
    assert (out.status, out.new, out.quarantined) == ("ok", 1, 1)
    with sessions() as s:
        stored = [list(r) for r in s.execute(sa.select(Item.author, Item.text, Item.raw))]
        stored += [s.scalar(sa.select(QuarantineRecord.raw))]
    assert leaks(stored, USER, str(USER), "Иван") == [] and stored[0][0] == pseudonymize("vk", USER)
