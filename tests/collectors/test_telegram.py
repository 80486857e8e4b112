"""Telegram collector driven through telethon's own Message/Channel/MessageReplies objects and errors."""
from __future__ import annotations

import json
import logging

import pytest
from telethon import errors
from telethon.tl import types

from collectors.adapters import adapt_record
from collectors.errors import Fatal, NotConfigured, Retriable
from collectors.telegram import build
from tests.collectors.conftest import NOW
from tests.collectors.fake_tg import FakeTelegram
from tsur.settings import Settings

DAY = 24 * 3600


def config():
    from collectors.base import SourceConfig
    return SourceConfig(key="tg:channel:simf_news", platform="tg", handle="simf_news",
                        options={"type": "tg_channel"})


class Sleeper:
    """An async sleep that only records how long it was asked to sleep."""

    def __init__(self):
        self.slept: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.slept.append(seconds)


def collector(fake, settings, pseudonymize, now=NOW, sleeper=None):
    return build(config(), settings, pseudonymize, make_client=lambda: fake, now=lambda: now,
                 sleep=sleeper or Sleeper())


def run(c, cursor=None):
    pages = list(c.fetch(cursor))
    return pages, [i for p in pages for i in p.items]


def world(posts=5, linked=True) -> FakeTelegram:
    fake = FakeTelegram(linked_chat_id=2002 if linked else None)
    for n in range(1, posts + 1):
        fake.post(n, NOW - (posts - n) * 3600 - 60, f"Сообщение {n}: отключение воды 💧")
    return fake


def test_posts_and_discussion_comments_become_items(settings, pseudonymize):
    fake = world()
    fake.comment(2, 501, NOW - 100, "Когда дадут воду?", user_id=77)
    fake.comment(2, 502, NOW - 90, "У нас тоже нет")
    pages, items = run(collector(fake, settings, pseudonymize))
    posts = [i for i in items if i.kind == "post"]
    comments = [i for i in items if i.kind == "comment"]
    assert [p.item_id for p in posts] == ["1", "2", "3", "4", "5"]
    assert [(c.item_id, c.parent_id) for c in comments] == [("2_501", "2"), ("2_502", "2")]
    assert comments[0].url == "https://t.me/simf_news/2?comment=501"
    assert comments[0].author == pseudonymize("tg", 77)
    assert posts[0].url == "https://t.me/simf_news/1" and posts[0].text == "Сообщение 1: отключение воды 💧"
    assert pages[-1].cursor == {"last_id": 5, "recent": {str(n): [502 if n == 2 else 0, fake.posts[n].date.timestamp()]
                                                         for n in range(1, 6)}}
    assert not fake.connected  # disconnected after the poll


def test_raw_payload_is_telethons_json_and_replays_identically(settings, pseudonymize):
    fake = world(posts=1)
    fake.post(1, NOW - 50, "Пост", entities=[types.MessageEntityTextUrl(offset=0, length=4, url="https://rk.gov.ru")],
              media=types.MessageMediaWebPage(webpage=types.WebPage(id=1, url="https://x.ru", display_url="x.ru",
                                                                   hash=0, title="Заголовок", description="Описание",
                                                                   attributes=[])))
    _, (item,) = run(collector(fake, settings, pseudonymize))
    assert item.raw == json.loads(fake.posts[1].to_json())
    assert item.text == "Пост\n\nЗаголовок\n\nОписание\n\nhttps://x.ru\n\nhttps://rk.gov.ru"
    assert adapt_record("tg_message", item.raw, config(), pseudonymize) == item


def test_next_poll_reads_new_posts_rereads_window_and_upserts_edits(settings, pseudonymize):
    fake = world()
    c = collector(fake, settings, pseudonymize)
    pages, _ = run(c)
    fake.post(3, fake.posts[3].date.timestamp(), "Сообщение 3 (исправлено)")
    fake.post(6, NOW - 10, "Новое")
    fake.comment(4, 600, NOW - 5, "Поздний комментарий")
    fake.calls.clear()
    pages2, items2 = run(c, pages[-1].cursor)
    by_id = {i.item_id: i for i in items2}
    assert by_id["3"].text == "Сообщение 3 (исправлено)" and "6" in by_id and "4_600" in by_id
    assert pages2[-1].cursor["last_id"] == 6
    reads = [kw for name, kw in fake.calls if name == "iter_messages"]
    assert reads[0]["min_id"] == 0 and [r["reply_to"] for r in reads[1:]] == [4]  # only the thread that moved


def test_edits_are_reread_in_channels_without_discussion(settings, pseudonymize):
    fake = world(posts=3, linked=False)
    c = collector(fake, settings, pseudonymize)
    cursor = list(c.fetch(None))[-1].cursor
    fake.post(2, fake.posts[2].date.timestamp(), "Сообщение 2 (исправлено)")
    _, items = run(c, cursor)
    assert {i.item_id: i.text for i in items}["2"] == "Сообщение 2 (исправлено)"


def test_posts_older_than_the_window_are_not_reread(settings, pseudonymize):
    fake = world(posts=3)
    c = collector(fake, settings, pseudonymize)
    cursor = list(c.fetch(None))[-1].cursor
    _, items = run(collector(fake, settings, pseudonymize, now=NOW + 10 * DAY), cursor)
    assert items == []
    assert [kw["min_id"] for name, kw in fake.calls if name == "iter_messages"][-1] == 3


def test_many_messages_come_in_pages_with_a_forward_cursor(settings, pseudonymize):
    fake = world(posts=250, linked=False)
    for n in range(1, 251):
        fake.post(n, NOW - (250 - n) * 60 - 60, f"m{n}")
    pages, items = run(collector(fake, settings, pseudonymize))
    assert [len(p.items) for p in pages] == [100, 100, 50]
    assert [p.cursor["last_id"] for p in pages] == [100, 200, 250]


def test_short_flood_wait_is_slept_through_and_counted(settings, pseudonymize):
    fake = world(posts=2)
    fake.fail_next(errors.FloodWaitError(request=None, capture=30))
    sleeper = Sleeper()
    pages, items = run(collector(fake, settings, pseudonymize, sleeper=sleeper))
    assert len(items) == 2 and sleeper.slept == [30] and sum(p.waits for p in pages) == 30


def test_flood_wait_mid_thread_resumes_after_the_last_comment(settings, pseudonymize):
    fake = world(posts=1)
    for n in range(150):
        fake.comment(1, 1000 + n, NOW - 500 + n, f"комментарий {n}")
    original, state = fake._maybe_fail, {"failed": False}

    def fail_once_at_second_chunk(name, **kw):
        original(name, **kw)
        if name == "iter_messages:next" and not state["failed"]:
            state["failed"] = True
            raise errors.FloodWaitError(request=None, capture=5)

    fake._maybe_fail = fail_once_at_second_chunk
    pages, items = run(collector(fake, settings, pseudonymize))
    assert [i.item_id for i in items if i.kind == "comment"] == [f"1_{1000 + n}" for n in range(150)]
    assert state["failed"] and sum(p.waits for p in pages) == 5
    assert [kw["min_id"] for name, kw in fake.calls if name == "iter_messages"][-1] == 1099


def test_long_flood_wait_ends_the_poll_as_retriable(settings, pseudonymize):
    fake = world(posts=2)
    fake.fail_next(errors.FloodWaitError(request=None, capture=3600))
    with pytest.raises(Retriable) as err:
        run(collector(fake, settings, pseudonymize))
    assert err.value.code == "FLOOD_WAIT" and err.value.retry_after == 3600


def test_short_flood_waits_stop_at_the_per_poll_budget(settings, pseudonymize):
    fake = world(posts=2)
    fake.fail_next(*[errors.FloodWaitError(request=None, capture=200) for _ in range(30)])
    sleeper = Sleeper()
    with pytest.raises(Retriable) as err:
        run(collector(fake, settings, pseudonymize, sleeper=sleeper))
    assert sleeper.slept == [200] and settings.tg_flood_wait_max_s == 300  # 200 + 200 would pass the limit
    assert err.value.code == "FLOOD_WAIT" and err.value.retry_after == 200


def fail_thread(fake: FakeTelegram, post_id: int, exc: Exception) -> None:
    """Make every read of the discussion thread under `post_id` fail with `exc`."""
    original = fake._maybe_fail

    def maybe_fail(name, **kwargs):
        original(name, **kwargs)
        if name == "iter_messages" and kwargs.get("reply_to") == post_id:
            raise exc

    fake._maybe_fail = maybe_fail


def test_a_thread_refused_with_a_bad_request_is_skipped_not_the_channel(settings, pseudonymize, caplog):
    fake = world(posts=2)
    fake.comment(1, 500, NOW - 500, "под удалённым постом")
    fake.comment(2, 501, NOW - 400, "под живым постом")
    fail_thread(fake, 1, errors.MsgIdInvalidError(request=None))  # post 1 deleted after the history read
    with caplog.at_level(logging.WARNING):
        pages, items = run(collector(fake, settings, pseudonymize))
    assert [i.item_id for i in items] == ["1", "2", "2_501"]
    assert any("comments of post 1 skipped: MsgIdInvalidError" in r.getMessage() for r in caplog.records)


def test_a_channel_level_error_while_reading_replies_stays_fatal(settings, pseudonymize):
    fake = world(posts=2)
    fake.comment(1, 500, NOW - 500, "коммент")
    fail_thread(fake, 1, errors.ChannelPrivateError(request=None))
    with pytest.raises(Fatal) as err:
        run(collector(fake, settings, pseudonymize))
    assert err.value.code == "ChannelPrivateError"


@pytest.mark.parametrize("exc", [errors.ChannelPrivateError(request=None), errors.SessionRevokedError(request=None),
                                 errors.AuthKeyUnregisteredError(request=None)])
def test_access_and_session_errors_are_fatal(settings, pseudonymize, exc):
    fake = world(posts=1)
    fake.fail_next(exc)
    with pytest.raises(Fatal) as err:
        run(collector(fake, settings, pseudonymize))
    assert err.value.code == type(exc).__name__ and "\n" not in str(err.value)


def test_unknown_channel_and_unauthorised_session_are_fatal(settings, pseudonymize):
    fake = world(posts=1)
    fake.username = "other"
    with pytest.raises(Fatal, match="UsernameNotOccupied"):
        run(collector(fake, settings, pseudonymize))
    fake.username, fake.authorized = "simf_news", False
    with pytest.raises(Fatal, match="not authorised"):
        run(collector(fake, settings, pseudonymize))


def test_network_errors_are_retriable(settings, pseudonymize):
    fake = world(posts=1)
    fake.fail_next(ConnectionError("reset"))
    with pytest.raises(Retriable):
        run(collector(fake, settings, pseudonymize))


def test_missing_or_bad_secrets_are_not_configured(tmp_path, pseudonymize):
    with pytest.raises(NotConfigured, match="TSUR_TG_API_ID, TSUR_TG_API_HASH, TSUR_TG_SESSION"):
        build(config(), Settings(data_dir=tmp_path), pseudonymize)
    bad = Settings(data_dir=tmp_path, tg_api_id="1", tg_api_hash="h", tg_session="not-a-session")
    with pytest.raises(NotConfigured, match="StringSession") as err:
        build(config(), bad, pseudonymize)
    assert "not-a-session" not in str(err.value)


METHODS_USED = ("contacts.resolveUsername", "channels.getFullChannel", "messages.getHistory", "messages.getReplies")


def known_errors(shared_data):
    """(name, code) of every RPC error Telegram documents for the methods the collector calls."""
    import csv

    tl = shared_data / "telegram_tl_schema"
    codes = {r["name"]: int(r["codes"].split()[0]) for r in csv.DictReader(open(tl / "errors.csv", encoding="utf-8"))}
    names = {n for r in csv.DictReader(open(tl / "methods.csv", encoding="utf-8")) if r["method"] in METHODS_USED
             for n in r["errors"].split()}
    return sorted((n, codes[n]) for n in names if n in codes)


def test_every_documented_error_of_our_calls_is_classified(shared_data, settings, pseudonymize):
    from telethon.errors import rpc_message_to_error

    cases = known_errors(shared_data)
    assert len(cases) >= 10
    for name, code in cases:
        fake = world(posts=1)
        fake.fail_next(rpc_message_to_error(types.RpcError(error_code=code, error_message=name), request=None))
        expected = Retriable if code >= 500 or code < 0 else Fatal
        with pytest.raises(expected) as err:
            run(collector(fake, settings, pseudonymize))
        assert "\n" not in str(err.value) and err.value.code.endswith("Error"), name
