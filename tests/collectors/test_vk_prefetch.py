"""First wall pages of up to 25 communities per execute, shared between the collectors of one token."""
from __future__ import annotations

import pytest

from collectors.errors import Fatal
from tests.collectors.conftest import NOW
from tests.collectors.vk_world import populate_wall, vk_collector, wall_config

WALLS = 30


def poll_round(fake, url, settings, pseudonymize, clock, now, cursors, errors=None):
    for n in range(1, WALLS + 1):
        collector = vk_collector(wall_config(-n, url), settings, pseudonymize, clock, now)
        try:
            for page in collector.fetch(cursors.get(n)):
                cursors[n] = page.cursor
                yield n, page
        except Fatal as exc:
            errors[n] = exc.code


def test_second_round_reads_first_pages_25_at_a_time(fake_vk, vk_url, settings, pseudonymize, clock):
    for n in range(1, WALLS + 1):
        populate_wall(fake_vk, -n, NOW, posts=6, every_s=3600, comments_per_post=0)
    cursors = {}
    list(poll_round(fake_vk, vk_url, settings, pseudonymize, clock, NOW, cursors))
    assert fake_vk.requests_of("wall.get") == WALLS and fake_vk.requests_of("execute") == 0  # nothing known yet
    clock.sleep(600)
    fake_vk.log.clear()
    fake_vk.add_post(-7, 7, NOW + 500, "Новый пост на стене 7")
    fake_vk.add_post(-28, 7, NOW + 500, "Новый пост на стене 28")
    pages = list(poll_round(fake_vk, vk_url, settings, pseudonymize, clock, NOW + 600, cursors))
    assert [m for m, _ in fake_vk.log] == ["execute", "execute"]
    batched = [[c for c in params["code"].split("API.")[1:]] for _, params in fake_vk.log]
    assert [len(b) for b in batched] == [25, 5]
    assert sum(p.requests for _, p in pages) == 2
    new = {(n, i.item_id) for n, p in pages for i in p.items if i.text.startswith("Новый пост")}
    assert new == {(7, "7"), (28, "7")} and cursors[7]["last_id"] == 7 and cursors[1]["last_id"] == 6


def test_a_wall_refused_inside_the_batch_fails_alone(fake_vk, vk_url, settings, pseudonymize, clock):
    for n in range(1, WALLS + 1):
        populate_wall(fake_vk, -n, NOW, posts=2, every_s=3600, comments_per_post=0)
    cursors, errors = {}, {}
    list(poll_round(fake_vk, vk_url, settings, pseudonymize, clock, NOW, cursors, errors))
    clock.sleep(600)
    fake_vk.denied[-5] = 15
    fake_vk.log.clear()
    list(poll_round(fake_vk, vk_url, settings, pseudonymize, clock, NOW + 600, cursors, errors))
    assert errors == {5: 15} and len(fake_vk.log) == 2  # wall 5's refusal came from the batch, no extra request
    fake_vk.schema_errors.clear()


def test_a_cached_page_older_than_the_ttl_is_not_used(fake_vk, vk_url, settings, pseudonymize, clock):
    populate_wall(fake_vk, -1, NOW, posts=2, every_s=3600, comments_per_post=0)
    populate_wall(fake_vk, -2, NOW, posts=2, every_s=3600, comments_per_post=0)
    first = vk_collector(wall_config(-1, vk_url), settings, pseudonymize, clock, NOW)
    second = vk_collector(wall_config(-2, vk_url), settings, pseudonymize, clock, NOW)
    list(first.fetch(None)), list(second.fetch(None))
    clock.sleep(600)
    list(first.fetch(None))  # batches wall -2's first page too
    fake_vk.add_post(-2, 3, NOW + 30, "после пакета")
    clock.sleep(first.prefetch.ttl_s + 1)
    fake_vk.log.clear()
    (page,) = list(second.fetch(None))
    assert len(fake_vk.log) == 1 and page.requests == 1 and "после пакета" in {i.text for i in page.items}


@pytest.mark.parametrize("code", [6, 10])
def test_a_transient_error_for_another_wall_lets_it_fetch_itself(fake_vk, vk_url, settings, pseudonymize, clock,
                                                                 code):
    populate_wall(fake_vk, -1, NOW, posts=2, every_s=3600, comments_per_post=0)
    populate_wall(fake_vk, -2, NOW, posts=2, every_s=3600, comments_per_post=0)
    first = vk_collector(wall_config(-1, vk_url), settings, pseudonymize, clock, NOW)
    second = vk_collector(wall_config(-2, vk_url), settings, pseudonymize, clock, NOW)
    list(first.fetch(None)), list(second.fetch(None))
    clock.sleep(600)
    fake_vk.fail("wall.get", None, code)  # inside the execute: wall -1 succeeds, wall -2 fails
    list(first.fetch(None))
    fake_vk.log.clear()
    (page,) = list(second.fetch(None))
    assert [m for m, _ in fake_vk.log] == ["wall.get"] and len(page.items) == 2
