"""A bad record never blocks its source: it is quarantined with its reason, the records after it are stored,
the cursor moves past it and the next poll repeats no error — on SQLite and on PostgreSQL (issue 13.1)."""
from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
import sqlalchemy as sa

from collectors.base import SourceConfig
from collectors.pseudonym import Pseudonymizer
from collectors.replay import ReplayCollector
from collectors.web import build as build_web
from storage.items import load_cursor
from storage.sources import sync_sources
from storage.tables import Item, QuarantineRecord, Source
from tests.collectors.web_server import FakeSite, SiteServer
from tests.property.strategies import one_line
from tsur.stages.collect import collect_source

PSEUDONYMIZE = Pseudonymizer(b"p" * 32)
DEMO = Path(__file__).resolve().parents[2] / "samples" / "demo.jsonl"
VK_SEED = next(json.loads(line) for line in DEMO.read_text(encoding="utf-8").splitlines() if '"vk_post"' in line)
SLUG = "https://example.ru/news/" + "".join(f"%{b:02X}" for b in "отключение-воды-в-ялте".encode())[:114]


def raw_item(item_id="2", **fields) -> dict:
    payload = {"platform": "vk", "source": "vk:wall:-1", "item_id": item_id,
               "published_at": "2026-11-20T10:00:00+03:00", "text": "нет воды"}
    return {"type": "raw_item", "source": "replay:x", "payload": {**payload, **fields}}


def vk_post(**fields) -> dict:
    return {**VK_SEED, "payload": {**VK_SEED["payload"], "id": 777, **fields}}


def line(record: dict) -> str:
    return json.dumps(record, ensure_ascii=False)


def with_raw(raw_json: str) -> str:
    """A raw_item line whose `raw` is the given JSON text (built by hand: Python would refuse to write it)."""
    return line(raw_item())[:-2] + f', "raw": {raw_json}}}}}'


SOON = datetime.now(timezone.utc) + timedelta(days=3)
QUARANTINED = {
    "json_100000_deep": "[" * 100_000 + "]" * 100_000,
    "raw_900_deep": with_raw('{"a": ' * 900 + "1" + "}" * 900),
    "integer_5000_digits": with_raw('{"n": ' + "7" * 5000 + "}"),
    "published_year_1_plus_14": line(raw_item(published_at="0001-01-01T00:00:00+14:00")),
    "published_before_2000": line(raw_item(published_at="1999-12-31T23:00:00+00:00")),
    "published_days_ahead": line(raw_item(published_at=SOON.isoformat())),
    "vk_date_1e20": line(vk_post(date=1e20)),
    "vk_date_infinity": line(vk_post(date=0)).replace('"date": 0', '"date": Infinity'),
    "url_integer": line(raw_item(url=12345)),
    "parent_id_object": line(raw_item(parent_id={"id": 1})),
    "nan_in_raw": with_raw('{"x": NaN}'),
    "platform_over_16": line(raw_item(platform="v" * 17)),
    "kind_over_16": line(raw_item(kind="k" * 17)),
    "vk_id_10_200": line(vk_post(id=10**200)),
}
STORED = {  # stored in a storable form: (line, what the stored item looks like)
    "item_id_over_128": (line(raw_item(item_id="x" * 129)), lambda row: row.item_id.startswith("sha256:")),
    "text_null": (line(raw_item(text=None)), lambda row: row.text == ""),
    # a VK user id is a number in the API: pseudonymised like any author, the pseudonym is the stored string
    "author_integer": (line(raw_item(author=12345)), lambda row: row.author == PSEUDONYMIZE("vk", 12345)),
    "rss_link_138_cyrillic_slug": (
        line({"type": "web_entry", "source": "web:https://example.ru/rss",
              "payload": {"url": SLUG, "title": "Отключение воды", "published": "2026-11-20T10:00:00+00:00"}}),
        lambda row: row.url == SLUG and row.item_id.startswith("sha256:")),
}


def poll(sessions, path: Path, page_lines: int = 200):
    cfg = SourceConfig(key="replay:x", platform="replay", handle=str(path), options={"type": "replay"})
    with sessions.begin() as s:
        sync_sources(s, [cfg])
    return collect_source(sessions, cfg.key, ReplayCollector(cfg, path, PSEUDONYMIZE, page_lines=page_lines),
                          worker="w")


def replay(sessions, tmp_path, bad_line: str, page_lines: int = 200):
    """Poll a file good / bad / good twice; what was stored, quarantined and where the cursor ended."""
    path = tmp_path / "rec.jsonl"
    path.write_text("\n".join([line(raw_item("1")), bad_line, line(raw_item("3"))]) + "\n", encoding="utf-8")
    first = poll(sessions, path, page_lines)
    second = poll(sessions, path, page_lines)
    with sessions() as s:
        rows = list(s.scalars(sa.select(Item)))
        reasons = list(s.scalars(sa.select(QuarantineRecord.reason)))
        source = s.scalar(sa.select(Source).where(Source.key == "replay:x"))
        cursor = load_cursor(s, source.id)
        errors = source.consecutive_errors
    assert (first.status, second.status, errors) == ("ok", "ok", 0), (first.error, second.error)
    assert cursor == {"line": 3}
    assert {"1", "3"} <= {r.item_id for r in rows}
    return rows, reasons


@pytest.mark.parametrize("name", sorted(QUARANTINED))
def test_a_bad_line_is_quarantined_and_the_page_goes_on(sessions, tmp_path, name):
    rows, reasons = replay(sessions, tmp_path, QUARANTINED[name])
    assert len(rows) == 2 and len(reasons) == 1
    assert all(one_line(r) and len(r) < 400 for r in reasons), reasons


@pytest.mark.parametrize("name", sorted(STORED))
def test_an_awkward_line_is_stored_in_a_storable_form(sessions, tmp_path, name):
    bad_line, looks_right = STORED[name]
    rows, reasons = replay(sessions, tmp_path, bad_line)
    assert reasons == [] and len(rows) == 3
    assert looks_right(next(r for r in rows if r.item_id not in ("1", "3")))


def test_one_line_pages_too(sessions, tmp_path):
    """Page boundaries do not matter: the bad line alone on its page still moves the cursor."""
    _, reasons = replay(sessions, tmp_path, QUARANTINED["nan_in_raw"], page_lines=1)
    assert len(reasons) == 1


def test_the_database_refusing_a_record_quarantines_it(sessions, tmp_path, monkeypatch):
    """The safety net: with the checks switched off a 17-character kind reaches the database. PostgreSQL
    refuses it (varchar(16)): that record is quarantined in its SAVEPOINT and the rest of the page is stored.
    SQLite does not check lengths and stores it."""
    import collectors.replay

    monkeypatch.setattr(collectors.replay, "check_item", lambda item: item)
    rows, reasons = replay(sessions, tmp_path, line(raw_item(kind="k" * 17)))
    if sessions.kw["bind"].dialect.name == "postgresql":
        assert len(rows) == 2 and len(reasons) == 1 and reasons[0].startswith("not stored: StringDataRightTruncation")
    else:
        assert len(rows) == 3 and reasons == []


def test_a_real_feed_with_a_long_cyrillic_link_is_stored(sessions, settings, pseudonymize, clock):
    """An RSS entry whose link (and so its id) is a 138-character percent-encoded slug: stored on both."""
    assert len(SLUG) == 138
    feed = (f"<?xml version='1.0' encoding='utf-8'?><rss version='2.0'><channel><title>Новости</title>"
            f"<item><title>Отключение воды в Ялте</title><link>{SLUG}</link>"
            f"<pubDate>Fri, 20 Nov 2026 10:00:00 +0300</pubDate></item></channel></rss>")
    site = FakeSite()
    site.put("/rss", feed.encode(), "application/rss+xml; charset=utf-8")
    with SiteServer(site) as base:
        cfg = SourceConfig(key=f"web:{base}/rss", platform="web", handle=f"{base}/rss", kind="web",
                           options={"type": "web"})
        with sessions.begin() as s:
            sync_sources(s, [cfg])
        outcome = collect_source(sessions, cfg.key, build_web(cfg, settings, pseudonymize, clock=clock),
                                 worker="w")
    assert outcome.status == "ok" and outcome.new == 1, outcome.error
    with sessions() as s:
        assert s.scalar(sa.select(Item.url)) == SLUG


class _OnePage:
    """A VK client stub answering every call with the given posts."""

    def __init__(self, posts):
        from collectors.base import CallStats

        self.posts, self.stats = posts, CallStats()
        self.limiter_key, self.limiter, self.clock = "stub", object(), None  # for the wall's shared prefetch

    def call(self, method, values, key):
        return {"items": self.posts, "count": len(self.posts)}


def test_hostile_vk_numbers_never_become_the_cursor():
    """A post dated 10**30 or with id 10**200 is quarantined and leaves the search and wall cursors alone."""
    from collectors.vk import VkSearchCollector, VkWallCollector

    now = 1_794_808_500
    good = {"id": 1, "owner_id": -1, "from_id": 5, "date": now - 60, "text": "нет воды"}
    posts = [good, {**good, "id": 2, "date": 10**30}, {**good, "id": 10**200}]
    cfg = SourceConfig(key="vk:search:x", platform="vk", handle="x", options={"type": "vk_search", "query": "x"})
    search = VkSearchCollector(cfg, _OnePage(posts), PSEUDONYMIZE, query="x", now=lambda: now)
    (page,) = search.fetch(None)
    assert page.cursor == {"last_date": now - 60} and len(page.items) == 1 and len(page.quarantined) == 2
    wall = VkWallCollector(SourceConfig(key="vk:wall:-1", platform="vk", handle="-1"), _OnePage(posts),
                           PSEUDONYMIZE, now=lambda: now, reread_s=0)
    wall._wall_page = lambda offset: {"items": posts, "count": len(posts)}
    (page,) = wall.fetch(None)
    assert page.cursor["last_id"] == 2 and len(page.items) == 1
