"""Authorship: a source's own post (community wall post, channel post, site article) or a visitor's, on the
payloads the collectors store (people pseudonymised) and the ones replay carries."""
from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from collectors.adapters import adapt_record
from collectors.authorship import written_by_source
from collectors.base import SourceConfig
from collectors.replay import ReplayCollector, adapt_raw_item
from tests.collectors.conftest import NOW
from tests.collectors.fake_tg import FakeTelegram
from tests.collectors.vk_world import populate_wall, vk_collector, wall_config

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "samples" / "demo.jsonl"
RECORDS = [json.loads(line) for line in DEMO.read_text(encoding="utf-8").splitlines() if line.strip()]
PERSON = 150443210  # a VK user id, pseudonymised when stored


def first(type_: str, **where) -> dict:
    """A copy of the first demo record of a type whose payload has these values."""
    record = next(r for r in RECORDS if r["type"] == type_ and all(r["payload"].get(k) == v for k, v in where.items()))
    return copy.deepcopy(record)


def stored(record: dict, pseudonymize) -> tuple:
    """(platform, kind, source, raw) of the item a record is stored as."""
    key = record["source"]
    source = SourceConfig(key=key, platform=key.split(":")[0], handle=key.split(":")[-1])
    item = adapt_record(record["type"], record["payload"], source, pseudonymize)
    return item.platform, item.kind, item.source, item.raw


def vk_post(**changes) -> dict:
    record = first("vk_post", owner_id=-100002)
    record["payload"].update(changes)
    return record


def vk_comment(**changes) -> dict:
    record = first("vk_comment", owner_id=-100002)
    record["payload"].update(changes)
    return record


def tg_group_message() -> dict:
    """A message of a Telegram group (not a channel): no `post` flag, sent by a user, no channel post_id."""
    record = copy.deepcopy(next(r for r in RECORDS if r["type"] == "tg_message" and "post_id" in r["payload"]))
    del record["payload"]["post_id"]
    return record


WEB = {"type": "web_entry", "source": "web:https://simf.rk.gov.ru/news",
       "payload": {"url": "https://simf.rk.gov.ru/news/1", "title": "Плановое отключение воды 17 ноября",
                   "summary": "<p>В связи с ремонтом водовода …</p>", "published": "2026-11-16T08:00:00+03:00"}}

GOLDEN = [  # (what, record, expected)
    ("community's own wall post", vk_post(), True),
    ("suggested post signed by its author", vk_post(signer_id=PERSON), False),
    ("visitor's post on an open community wall", vk_post(from_id=PERSON), False),
    ("another community's post on the wall", vk_post(from_id=-5), False),
    ("post on a person's wall: owner id kept, author pseudonymised", vk_post(owner_id=PERSON, from_id=PERSON), None),
    ("post without from_id", vk_post(from_id=None), None),
    ("visitor's comment", vk_comment(), False),
    ("the community's own comment (an answer)", vk_comment(from_id=-100002), False),
    ("Telegram channel post", first("tg_message", post=True), True),
    ("Telegram discussion comment", next(r for r in RECORDS if r["type"] == "tg_message"
                                         and "post_id" in r["payload"]), False),
    ("Telegram group member's message", tg_group_message(), False),
    ("official site's article", WEB, True),
]


@pytest.mark.parametrize("what,record,expected", GOLDEN, ids=[g[0] for g in GOLDEN])
def test_golden(what, record, expected, pseudonymize):
    assert written_by_source(*stored(record, pseudonymize)) is expected


def test_stored_payloads_answer_the_same_when_replayed(pseudonymize):
    """A stored raw payload adapts again to the same item (pseudonyms are kept): the same answer."""
    for _, record, expected in GOLDEN:
        platform, kind, key, raw = stored(record, pseudonymize)
        again = stored({**record, "payload": raw}, pseudonymize)
        assert written_by_source(*again) is expected


def test_replayed_demo_sample(pseudonymize):
    """The bundled sample through the replay collector: every post is its source's own, no comment is."""
    replay = SourceConfig(key="replay:samples/demo.jsonl", platform="replay", handle="samples/demo.jsonl")
    items = [i for page in ReplayCollector(replay, DEMO, pseudonymize).fetch(None) for i in page.items]
    answers = {(i.platform, i.kind, written_by_source(i.platform, i.kind, i.source, i.raw)) for i in items}
    assert answers == {("vk", "post", True), ("vk", "comment", False), ("tg", "post", True), ("tg", "comment", False)}


def raw_item(platform: str, source: str, kind: str = "post", raw: dict | None = None):
    return adapt_raw_item({"platform": platform, "source": source, "item_id": "1", "kind": kind, "text": "…",
                           "published_at": "2026-11-16T08:00:00+00:00", "raw": raw})


@pytest.mark.parametrize("platform,source,kind,raw,expected", [
    ("vk", "vk:wall:-100002", "post", {"owner_id": -100002, "from_id": -100002}, True),
    ("vk", "vk:wall:-100002", "post", {"from_id": -100002}, True),  # owner from the wall key, as the adapter does
    ("vk", "vk:wall:-100002", "post", None, None),
    ("vk", "vk:search:крым", "post", {"from_id": -7}, None),  # a search spans walls: no owner, no answer
    ("tg", "tg:channel:sevas_live", "post", {"_": "Message", "post": True}, True),
    ("tg", "tg:channel:sevas_live", "post", None, None),
    ("web", "web:https://rk.gov.ru/news", "article", None, True),
    ("replay", "replay:old.jsonl", "post", {"owner_id": -1, "from_id": -1}, None),  # rules of which platform?
    ("replay", "vk:wall:-1", "post", {"owner_id": -1, "from_id": -1}, True),  # the source key says VK
    ("tg", "tg:channel:sevas_live", "comment", {"post": True}, False),
])
def test_replayed_raw_items(platform, source, kind, raw, expected):
    """raw_item records carry the platform and raw of what they replay: same rules, None when fields are missing."""
    item = raw_item(platform, source, kind, raw)
    assert written_by_source(item.platform, item.kind, item.source, item.raw) is expected


def test_vk_collector_items(fake_vk, vk_url, settings, pseudonymize, clock):
    """Through the live VK collector: the community's posts are its own; visitors' posts and comments are not."""
    owner = -100
    populate_wall(fake_vk, owner, NOW, posts=3, comments_per_post=1)
    fake_vk.add_post(owner, 10, NOW - 50, "Предложенная новость", signer_id=PERSON)
    fake_vk.add_post(owner, 11, NOW - 40, "Пост посетителя на открытой стене", from_id=PERSON)
    items = [i for page in vk_collector(wall_config(owner, vk_url), settings, pseudonymize, clock, NOW).fetch(None)
             for i in page.items]
    answers = {i.item_id: written_by_source(i.platform, i.kind, i.source, i.raw) for i in items}
    assert {k: v for k, v in answers.items() if k in ("1", "2", "3", "10", "11")} == {
        "1": True, "2": True, "3": True, "10": False, "11": False}
    assert {answers[i.item_id] for i in items if i.kind == "comment"} == {False}


def test_telegram_collector_items(settings, pseudonymize):
    """Through the live Telegram collector: channel posts are the channel's, discussion comments are not."""
    from collectors.telegram import build

    fake = FakeTelegram()
    for n in (1, 2):
        fake.post(n, NOW - 3600 * n, f"Плановое отключение электроэнергии {n}")
    fake.comment(1, 501, NOW - 100, "А у нас когда дадут?", user_id=77)
    source = SourceConfig(key="tg:channel:simf_news", platform="tg", handle="simf_news",
                          options={"type": "tg_channel"})
    collector = build(source, settings, pseudonymize, make_client=lambda: fake, now=lambda: NOW,
                      sleep=lambda s: _nothing())
    items = [i for page in collector.fetch(None) for i in page.items]
    answers = {(i.kind, written_by_source(i.platform, i.kind, i.source, i.raw)) for i in items}
    assert answers == {("post", True), ("comment", False)} and len(items) == 3


async def _nothing() -> None:
    return None
