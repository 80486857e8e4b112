"""VK collectors through the real vk_api client against the loopback fake (schema-checked responses)."""
from __future__ import annotations

import logging

import pytest

from collectors.errors import Fatal, NotConfigured, Retriable
from collectors.vk import build
from tests.collectors.conftest import NOW, TOKEN
from tests.collectors.vk_world import DAY, populate_wall, search_config, vk_collector, wall_config
from tsur.settings import Settings

OWNER = -100


def run(collector, cursor=None):
    pages = list(collector.fetch(cursor))
    items = [i for p in pages for i in p.items]
    return pages, items


def test_first_poll_reads_the_window_with_comments_and_threads(fake_vk, vk_url, settings, pseudonymize, clock):
    populate_wall(fake_vk, OWNER, NOW, posts=40, every_s=3 * 3600)  # 40 posts over 5 days; window is 3 days
    collector = vk_collector(wall_config(OWNER, vk_url), settings, pseudonymize, clock, NOW)
    pages, items = run(collector)
    posts = [i for i in items if i.kind == "post"]
    in_window = [p for p in fake_vk.walls[OWNER] if p["date"] >= NOW - 3 * DAY]
    assert sorted(int(p.item_id) for p in posts) == sorted(p["id"] for p in in_window)
    comments = [i for i in items if i.kind == "comment"]
    expected = sum(p["comments"]["count"] for p in in_window)
    assert len(comments) == expected and expected > 0
    reply = next(c for c in comments if c.text == "Ответ в ветке")
    assert reply.item_id.endswith("50") and reply.parent_id == reply.item_id.split("_")[0]
    assert pages[-1].cursor["last_id"] == 40 and "scan" not in pages[-1].cursor
    assert sum(p.requests for p in pages) == 2  # one wall.get + one execute for every post's comments
    assert fake_vk.requests_of("execute") == 1 and fake_vk.rate_violations == 0


def test_adapted_post_keeps_links_emoji_url_and_pseudonymous_author(fake_vk, vk_url, settings, pseudonymize, clock):
    fake_vk.add_post(OWNER, 7, NOW - 100, "Яма 🕳 на дороге https://vk.cc/abc", signer_id=555,
                     attachments=[{"type": "link", "link": {"url": "https://rk.gov.ru/n/1", "title": "Новость"}}],
                     copy_history=[{"id": 3, "owner_id": -9, "from_id": -9, "date": NOW - 900, "text": "Репост"}])
    _, items = run(vk_collector(wall_config(OWNER, vk_url), settings, pseudonymize, clock, NOW))
    (post,) = items
    assert post.text == "Яма 🕳 на дороге https://vk.cc/abc\n\nНовость\n\nhttps://rk.gov.ru/n/1\n\nРепост"
    assert post.url == "https://vk.com/wall-100_7" and post.published_at.timestamp() == NOW - 100
    assert post.author == pseudonymize("vk", 555) and "555" not in post.author


def test_second_poll_rereads_window_but_only_changed_comment_counts(fake_vk, vk_url, settings, pseudonymize,
                                                                    clock):
    populate_wall(fake_vk, OWNER, NOW - 3600, posts=10, every_s=3600)
    collector = vk_collector(wall_config(OWNER, vk_url), settings, pseudonymize, clock, NOW)
    pages, _ = run(collector)
    fake_vk.add_post(OWNER, 11, NOW - 30, "Новый пост")
    fake_vk.add_comment(OWNER, 4, 999, NOW - 20, "Поздний комментарий")
    fake_vk.log.clear()
    pages2, items2 = run(collector, pages[-1].cursor)
    late = [i for i in items2 if i.kind == "comment"]
    assert {i.text for i in late} == {"Коммент 0 к 4", "Коммент 1 к 4", "Ответ в ветке", "Поздний комментарий"}
    assert [m for m, _ in fake_vk.log] == ["wall.get", "wall.getComments"]  # one post changed: no execute
    assert pages2[-1].cursor["last_id"] == 11


def test_a_new_comment_hidden_by_a_deletion_is_found_by_the_periodic_reread(fake_vk, vk_url, settings,
                                                                            pseudonymize, clock):
    fake_vk.add_post(OWNER, 1, NOW - 500, "Пост")
    fake_vk.add_comment(OWNER, 1, 10, NOW - 400, "старый")
    fake_vk.add_post(OWNER, 2, NOW - 300, "Второй пост")
    fake_vk.add_comment(OWNER, 2, 20, NOW - 200, "ещё один")
    cfg = wall_config(OWNER, vk_url)
    pages, _ = run(vk_collector(cfg, settings, pseudonymize, clock, NOW))
    fake_vk.comments[(OWNER, 1)].clear()  # comment 10 deleted and comment 11 written: the count stays 1
    fake_vk.walls[OWNER][1]["comments"]["count"] -= 1
    fake_vk.add_comment(OWNER, 1, 11, NOW + 60, "новая жалоба")
    fake_vk.log.clear()
    soon, items = run(vk_collector(cfg, settings, pseudonymize, clock, NOW + 600), pages[-1].cursor)
    assert "1_11" not in {i.item_id for i in items} and [m for m, _ in fake_vk.log] == ["wall.get"]  # the price
    later = NOW + settings.vk_comments_reread_s
    _, items = run(vk_collector(cfg, settings, pseudonymize, clock, later), soon[-1].cursor)
    assert "1_11" in {i.item_id for i in items}
    assert [m for m, _ in fake_vk.log] == ["wall.get", "wall.get", "execute"]  # both posts in one re-read


def test_deep_backlog_is_walked_in_pages_and_resumes_mid_walk(fake_vk, vk_url, settings, pseudonymize, clock):
    populate_wall(fake_vk, OWNER, NOW, posts=250, every_s=60, comments_per_post=0)
    cfg = wall_config(OWNER, vk_url)
    walker = vk_collector(cfg, settings.model_copy(update={"max_pages_per_poll": 2}), pseudonymize, clock, NOW)
    first = list(walker.fetch({"last_id": 0}))
    assert [len(p.items) for p in first] == [100, 100]
    assert first[-1].cursor["last_id"] == 0 and first[-1].cursor["scan"] == {"top_id": 250, "offset": 200}
    rest = list(walker.fetch(first[-1].cursor))
    assert [len(p.items) for p in rest] == [50] and rest[-1].cursor["last_id"] == 250
    got = {i.item_id for p in first + rest for i in p.items}
    assert got == {str(n) for n in range(1, 251)}


def test_pinned_old_post_does_not_stop_or_extend_the_walk(fake_vk, vk_url, settings, pseudonymize, clock):
    fake_vk.add_post(OWNER, 1, NOW - 30 * DAY, "Закреп", is_pinned=1)
    populate_wall(fake_vk, OWNER, NOW, posts=5, every_s=3600, comments_per_post=0, first_id=2)
    pages, items = run(vk_collector(wall_config(OWNER, vk_url), settings, pseudonymize, clock, NOW), None)
    assert sorted(int(i.item_id) for i in items) == [2, 3, 4, 5, 6] and pages[-1].cursor["last_id"] == 6


@pytest.mark.parametrize("failure", [6, 9, 10, 29, "http500", "drop"])
def test_transient_errors_are_backed_off_and_retried(fake_vk, vk_url, settings, pseudonymize, clock, failure):
    populate_wall(fake_vk, OWNER, NOW, posts=3, comments_per_post=0)
    fake_vk.fail("wall.get", failure, failure)
    pages, items = run(vk_collector(wall_config(OWNER, vk_url), settings, pseudonymize, clock, NOW))
    assert len(items) == 3 and pages[0].requests == 3 and pages[0].waits >= 3.0  # slept 1 s + 2 s


def test_timeouts_are_retried(fake_vk, vk_url, settings, pseudonymize, clock):
    populate_wall(fake_vk, OWNER, NOW, posts=3, comments_per_post=0)
    fake_vk.slow_s = 0.4
    fake_vk.fail("wall.get", "slow")
    quick = settings.model_copy(update={"http_timeout_s": 0.1})
    pages, items = run(vk_collector(wall_config(OWNER, vk_url), quick, pseudonymize, clock, NOW))
    assert len(items) == 3 and pages[0].requests == 2 and pages[0].waits >= 1.0


def test_persistent_rate_limit_becomes_retriable_after_bounded_attempts(fake_vk, vk_url, settings, pseudonymize,
                                                                        clock):
    fake_vk.fail("wall.get", *[6] * 10)
    with pytest.raises(Retriable) as err:
        run(vk_collector(wall_config(OWNER, vk_url), settings, pseudonymize, clock, NOW))
    assert err.value.code == 6 and fake_vk.requests_of("wall.get") == 4


@pytest.mark.parametrize("code", [5, 15, 18, 30])
def test_auth_and_access_errors_are_fatal_with_one_clear_line(fake_vk, vk_url, settings, pseudonymize, clock,
                                                              code):
    fake_vk.fail("wall.get", code)
    with pytest.raises(Fatal) as err:
        run(vk_collector(wall_config(OWNER, vk_url), settings, pseudonymize, clock, NOW))
    assert err.value.code == code and fake_vk.requests_of("wall.get") == 1
    assert "\n" not in str(err.value) and TOKEN not in str(err.value) and "vk:wall:-100" in str(err.value)


def test_captcha_is_reported_once_not_looped_on(fake_vk, vk_url, settings, pseudonymize, clock, caplog):
    fake_vk.fail("wall.get", 14, 14, 14)
    with caplog.at_level(logging.WARNING), pytest.raises(Retriable) as err:
        run(vk_collector(wall_config(OWNER, vk_url), settings, pseudonymize, clock, NOW))
    assert err.value.code == 14 and fake_vk.requests_of("wall.get") == 1
    assert any("captcha" in r.getMessage() for r in caplog.records)


def test_captcha_without_captcha_sid_is_reported_not_a_traceback(fake_vk, vk_url, settings, pseudonymize, clock):
    fake_vk.captcha = {"redirect_uri": "https://id.vk.ru/not_robot_captcha?session_token=x"}
    fake_vk.fail("wall.get", 14)
    with pytest.raises(Retriable) as err:
        run(vk_collector(wall_config(OWNER, vk_url), settings, pseudonymize, clock, NOW))
    assert err.value.code == 14 and fake_vk.requests_of("wall.get") == 1


def test_captcha_inside_execute_is_reported_once_not_looped_on(fake_vk, vk_url, settings, pseudonymize, clock,
                                                               caplog):
    populate_wall(fake_vk, OWNER, NOW, posts=6, every_s=3600)  # two commented posts: one execute of comments
    fake_vk.fail("wall.getComments", 14, 14, 14)
    with caplog.at_level(logging.WARNING), pytest.raises(Retriable) as err:
        run(vk_collector(wall_config(OWNER, vk_url), settings, pseudonymize, clock, NOW))
    assert err.value.code == 14 and "in wall.getComments" in str(err.value)
    assert fake_vk.requests_of("execute") == 1 and clock.now() < 1002  # no back-off, no second execute
    assert sum("captcha" in r.getMessage() for r in caplog.records) == 1


def test_errors_inside_execute_are_retried_or_classified(fake_vk, vk_url, settings, pseudonymize, clock):
    populate_wall(fake_vk, OWNER, NOW, posts=6, every_s=3600)
    fake_vk.fail("wall.getComments", 10)  # first inner call fails once, then succeeds on the retry
    _, items = run(vk_collector(wall_config(OWNER, vk_url), settings, pseudonymize, clock, NOW))
    assert sum(i.kind == "comment" for i in items) == 6
    fake_vk.fail("wall.getComments", 5)  # a fresh poll reads every comment again: the token is refused
    with pytest.raises(Fatal) as err:
        run(vk_collector(wall_config(OWNER, vk_url), settings, pseudonymize, clock, NOW))
    assert err.value.code == 5


@pytest.mark.parametrize("code", [15, 212])
def test_one_post_with_refused_comments_is_skipped_not_the_wall(fake_vk, vk_url, settings, pseudonymize, clock,
                                                                caplog, code):
    fake_vk.add_post(OWNER, 1, NOW - 3600, "Пост")
    fake_vk.add_comment(OWNER, 1, 10, NOW - 3500, "коммент")
    fake_vk.add_post(OWNER, 2, NOW - 60, "Пост, комментарии к которому закрыли")
    fake_vk.add_comment(OWNER, 2, 20, NOW - 50, "коммент до закрытия")
    fake_vk.fail("wall.getComments", code)  # inside the execute, the call for post 2 (newest first)
    with caplog.at_level(logging.WARNING):
        pages, items = run(vk_collector(wall_config(OWNER, vk_url), settings, pseudonymize, clock, NOW))
    assert sorted(i.item_id for i in items) == ["1", "1_10", "2"] and fake_vk.requests_of("execute") == 1
    assert any(f"comments of post 2 skipped: VK error {code}" in r.getMessage() for r in caplog.records)
    fake_vk.log.clear()
    run(vk_collector(wall_config(OWNER, vk_url), settings, pseudonymize, clock, NOW), pages[-1].cursor)
    assert [m for m, _ in fake_vk.log] == ["wall.get"]  # the refused thread is not asked again every poll


def test_refused_comments_of_the_only_commented_post_do_not_block_new_posts(fake_vk, vk_url, settings,
                                                                           pseudonymize, clock):
    fake_vk.add_post(OWNER, 1, NOW - 3600, "Пост, комментарии к которому закрыли")
    fake_vk.add_comment(OWNER, 1, 10, NOW - 3500, "коммент")
    fake_vk.add_post(OWNER, 2, NOW - 60, "Новый пост")
    fake_vk.fail("wall.getComments", 212)  # one plain call, not an execute
    _, items = run(vk_collector(wall_config(OWNER, vk_url), settings, pseudonymize, clock, NOW))
    assert sorted(i.item_id for i in items) == ["1", "2"]


def test_malformed_post_is_quarantined_not_fatal(fake_vk, vk_url, settings, pseudonymize, clock):
    fake_vk.add_post(OWNER, 2, NOW - 10, "ok")
    fake_vk.walls[OWNER].append({"id": 1, "owner_id": OWNER, "text": "no date"})
    pages, items = run(vk_collector(wall_config(OWNER, vk_url), settings, pseudonymize, clock, NOW), {"last_id": 0})
    assert [i.item_id for i in items] == ["2"]
    assert len(pages[0].quarantined) == 1 and pages[0].quarantined[0].reason == "vk_post 1: bad date None"
    fake_vk.schema_errors.clear()  # the malformed post is deliberately off-schema


def test_search_pages_through_next_from_and_keeps_its_own_cursor(fake_vk, vk_url, settings, pseudonymize, clock):
    for n in range(450):
        owner = -(n % 7) - 1
        fake_vk.corpus.append({"id": n + 1, "owner_id": owner, "from_id": 10 + n, "date": NOW - 100 * n,
                               "text": f"Ялта: нет света, дом {n}" if n % 2 == 0 else f"Алушта {n}",
                               "post_type": "post"})
    cfg = search_config("yalta", "ялта", vk_url)
    collector = vk_collector(cfg, settings.model_copy(update={"max_pages_per_poll": 1}), pseudonymize, clock, NOW)
    first = list(collector.fetch(None))
    assert len(first[0].items) == 200 and first[0].cursor["last_date"] is None and first[0].cursor["scan"]
    rest = list(vk_collector(cfg, settings, pseudonymize, clock, NOW).fetch(first[-1].cursor))
    got = [i for p in first + rest for i in p.items]
    assert len({i.item_id for i in got}) == 225 and rest[-1].cursor == {"last_date": NOW}
    assert got[0].item_id == "-1_1" and got[0].source == "vk:search:yalta"
    fake_vk.log.clear()
    again = list(vk_collector(cfg, settings, pseudonymize, clock, NOW + 60).fetch(rest[-1].cursor))
    assert fake_vk.log[0][1]["start_time"] == str(NOW - 3600) and again[-1].cursor == {"last_date": NOW}


def test_paced_at_three_requests_per_second_on_the_fake(fake_vk, vk_url, settings, pseudonymize, clock):
    for owner in range(1, 11):
        populate_wall(fake_vk, -owner, NOW, posts=5, every_s=3600)
    start = clock.now()
    for owner in range(1, 11):
        run(vk_collector(wall_config(-owner, vk_url), settings, pseudonymize, clock, NOW))
    assert fake_vk.rate_violations == 0 and len(fake_vk.log) == 20
    assert clock.now() - start == pytest.approx(19 * (1 / 3 + 0.01), abs=0.01)


def test_missing_token_or_bad_handle_is_not_configured(settings, pseudonymize):
    cfg = wall_config(OWNER, "http://127.0.0.1:9/method/")
    with pytest.raises(NotConfigured, match="TSUR_VK_TOKEN"):
        build(cfg, Settings(data_dir=settings.data_dir), pseudonymize)
    bad = cfg.__class__(key="vk:wall:durov", platform="vk", handle="durov", options={"type": "vk_wall"})
    with pytest.raises(NotConfigured, match="numeric"):
        build(bad, settings, pseudonymize)
    with pytest.raises(NotConfigured, match="query"):
        build(search_config("x", "", "u").__class__(key="vk:search:x", platform="vk", handle="x",
                                                     options={"type": "vk_search"}), settings, pseudonymize)


def test_long_comment_lists_and_threads_beyond_the_preview_are_fetched(fake_vk, vk_url, settings, pseudonymize,
                                                                      clock):
    fake_vk.add_post(OWNER, 1, NOW - 500, "Пост с обсуждением")
    for n in range(1, 151):
        fake_vk.add_comment(OWNER, 1, n, NOW - 400 + n, f"комментарий {n}")
    for n in range(1, 16):
        fake_vk.add_comment(OWNER, 1, 1000 + n, NOW - 100 + n, f"ответ {n}", reply_to=3)
    fake_vk.add_post(OWNER, 2, NOW - 50, "Второй пост")
    fake_vk.add_comment(OWNER, 2, 5000, NOW - 40, "один")
    pages, items = run(vk_collector(wall_config(OWNER, vk_url), settings, pseudonymize, clock, NOW))
    comments = {i.item_id for i in items if i.kind == "comment"}
    assert comments == {f"1_{n}" for n in range(1, 151)} | {f"1_{1000 + n}" for n in range(1, 16)} | {"2_5000"}
    # wall.get; execute(first pages of both posts); execute(page 2 of post 1 + the thread of comment 3)
    assert [m for m, _ in fake_vk.log] == ["wall.get", "execute", "execute"] and pages[0].requests == 3
