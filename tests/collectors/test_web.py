"""Web collector against a loopback site: RSS and HTML lists, ETag/Last-Modified, polite pacing, errors."""
from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import pytest

from collectors.base import SourceConfig
from collectors.errors import Fatal, NotConfigured, Retriable
from collectors.web import build
from collectors.web_html import parse_date
from tests.collectors.conftest import NOW
from tests.collectors.web_server import FakeSite, SiteServer

FIXTURES = Path(__file__).parent / "fixtures" / "web"
HTML_OPTIONS = {"type": "web", "format": "html", "item": ".news-item", "link": "a.news-title",
                "date": ".news-date", "summary": ".news-anons"}


@pytest.fixture
def site():
    site = FakeSite()
    site.put("/rss", (FIXTURES / "feed.xml").read_bytes(), "application/rss+xml; charset=utf-8")
    site.put("/news", (FIXTURES / "news.html").read_bytes(), "text/html; charset=utf-8")
    return site


@pytest.fixture
def base(site):
    with SiteServer(site) as url:
        yield url


def web(base, path, settings, pseudonymize, clock, options=None):
    cfg = SourceConfig(key=f"web:{base}{path}", platform="web", handle=f"{base}{path}", kind="web",
                       options=options or {"type": "web"})
    return build(cfg, settings, pseudonymize, clock=clock, now=lambda: NOW)


def test_rss_entries_become_articles_and_bad_ones_are_quarantined(base, settings, pseudonymize, clock):
    (page,) = web(base, "/rss", settings, pseudonymize, clock).fetch(None)
    first, second = page.items
    assert first.item_id == first.url == "https://simf.rk.gov.ru/news/1002" and first.kind == "article"
    assert first.text.startswith("Плановое отключение электроэнергии 25 ноября\n\nВ связи с ремонтом на ул. Ленина ⚡")
    assert "график (https://simf.rk.gov.ru/otkl)" in first.text
    assert first.published_at == datetime(2025, 11, 23, 6, 0, tzinfo=timezone.utc) and first.author is None
    assert second.published_at == datetime(2025, 11, 22, 12, 30, tzinfo=timezone.utc)
    assert len(page.quarantined) == 1 and "url" in page.quarantined[0].reason
    assert page.cursor["newest"] == "2025-11-23T06:00:00+00:00" and page.requests == 1


def test_html_news_list_with_russian_dates(base, settings, pseudonymize, clock):
    (page,) = web(base, "/news", settings, pseudonymize, clock, HTML_OPTIONS).fetch(None)
    assert [i.url for i in page.items] == [f"{base}/news/2025/11/23/remont-dorogi",
                                           "https://alushta.rk.gov.ru/news/2025/11/21/vodosnabzhenie"]
    assert page.items[0].text == "Ремонт дороги на ул. Горького 🚧\n\nНачались работы по ремонту дорожного покрытия."
    assert page.items[0].published_at == datetime(2025, 11, 23, 7, 15, tzinfo=timezone.utc)
    assert page.items[1].published_at == datetime(2025, 11, 20, 21, 0, tzinfo=timezone.utc)


@pytest.mark.parametrize("text, expected", [
    ("23 ноября 2025 14:30", "2025-11-23T11:30:00+00:00"),
    ("1 мая 2024 г.", "2024-04-30T21:00:00+00:00"),
    ("05.01.2025", "2025-01-04T21:00:00+00:00"),
    ("2025-11-23T10:00:00Z", "2025-11-23T10:00:00+00:00"),
    ("", None),
])
def test_parse_date(text, expected):
    parsed = parse_date(text)
    assert (parsed.isoformat() if parsed else None) == expected


def test_conditional_get_and_fingerprint_skip_unchanged_pages(site, base, settings, pseudonymize, clock):
    collector = web(base, "/rss", settings, pseudonymize, clock)
    (first,) = collector.fetch(None)
    (second,) = collector.fetch(first.cursor)
    assert site.log[-1][1]["If-None-Match"] == first.cursor["etag"]
    assert second.items == () and second.cursor == first.cursor
    site.use_etag = False  # a server without ETag: Last-Modified, then the content fingerprint
    (third,) = collector.fetch({**first.cursor, "etag": None})
    assert third.items == () and site.log[-1][1]["If-Modified-Since"] == site.last_modified
    site.last_modified = "Mon, 24 Nov 2025 09:00:00 GMT"
    (fourth,) = collector.fetch(third.cursor)
    assert fourth.items == () and fourth.cursor["fingerprint"] == first.cursor["fingerprint"]


def test_changed_page_yields_its_entries_again(site, base, settings, pseudonymize, clock):
    collector = web(base, "/rss", settings, pseudonymize, clock)
    (first,) = collector.fetch(None)
    body = (FIXTURES / "feed.xml").read_text().replace("Приём граждан главой", "Приём граждан заместителем")
    site.put("/rss", body, "application/rss+xml")
    (second,) = collector.fetch(first.cursor)
    assert "заместителем" in second.items[1].text and second.cursor["fingerprint"] != first.cursor["fingerprint"]


def test_requests_to_one_host_are_spaced_politely(base, settings, pseudonymize, clock):
    start = clock.now()
    for path in ("/rss", "/news", "/rss"):
        list(web(base, path, settings, pseudonymize, clock, HTML_OPTIONS if path == "/news" else None).fetch(None))
    assert clock.now() - start == pytest.approx(2 * settings.web_min_interval_s)


def test_server_errors_are_retried_then_retriable(site, base, settings, pseudonymize, clock):
    site.fail("/rss", 503)
    (page,) = web(base, "/rss", settings, pseudonymize, clock).fetch(None)
    assert len(page.items) == 2 and page.requests == 2 and page.waits >= 2.0
    site.fail("/rss", 500, 502, 503)
    with pytest.raises(Retriable) as err:
        list(web(base, "/rss", settings, pseudonymize, clock).fetch(None))
    assert err.value.code == "http_503"


def test_retry_after_is_slept_up_to_the_limit_then_ends_the_poll(site, base, settings, pseudonymize, clock):
    site.fail("/rss", 503, headers={"Retry-After": "30"})
    (page,) = web(base, "/rss", settings, pseudonymize, clock).fetch(None)
    assert len(page.items) == 2 and page.requests == 2 and 30 <= page.waits < 31
    site.fail("/rss", 503, headers={"Retry-After": "86400"})
    start = clock.now()
    with pytest.raises(Retriable) as err:
        list(web(base, "/rss", settings, pseudonymize, clock).fetch(None))
    assert (err.value.code, err.value.retry_after) == ("http_503", 86400) and "Retry-After 86400 s" in str(err.value)
    assert clock.now() - start < 1 and len(site.log) == 3  # not slept, not asked again in this poll


def test_missing_page_is_fatal_and_bad_config_not_configured(base, settings, pseudonymize, clock):
    with pytest.raises(Fatal) as err:
        list(web(base, "/gone", settings, pseudonymize, clock).fetch(None))
    assert err.value.code == 404
    with pytest.raises(NotConfigured):
        web("ftp://x", "/y", settings, pseudonymize, clock)
    with pytest.raises(NotConfigured, match="options.item"):
        web(base, "/news", settings, pseudonymize, clock, {"type": "web", "format": "html"})


def test_a_page_that_stops_yielding_entries_is_reported_not_silent(site, base, settings, pseudonymize, clock):
    site.put("/news", "<html><body><ul class='new-layout'><li>Новость</li></ul></body></html>", "text/html")
    (page,) = web(base, "/news", settings, pseudonymize, clock, HTML_OPTIONS).fetch(None)
    assert page.items == () and [q.reason for q in page.quarantined] == [
        "no entries matched options.item '.news-item' (site layout changed?)"]
    site.put("/rss", "<rss><channel><item><title>обрыв", "application/rss+xml")
    (page,) = web(base, "/rss", settings, pseudonymize, clock).fetch(None)
    assert page.items == () and page.quarantined[-1].reason.startswith("feed could not be parsed")
    site.put("/rss", "<rss version='2.0'><channel><title>пусто</title></channel></rss>", "application/rss+xml")
    (page,) = web(base, "/rss", settings, pseudonymize, clock).fetch(None)
    assert page.items == () and page.quarantined == ()  # an empty but valid feed is just quiet


HUGE_FEED = (b"<rss version='2.0'><channel><item><title>" + "Керчь ".encode() * 1_000_000
             + b"</title></item></channel></rss>")
OVER = "is over 5,000,000 bytes"


@pytest.mark.parametrize("framing, says", [(None, f"declares {len(HUGE_FEED):,} bytes"), ("chunked", OVER),
                                           ("none", OVER)])
def test_a_response_over_the_size_limit_is_not_read_and_disables_the_source(site, base, settings, pseudonymize,
                                                                            clock, framing, says):
    site.put("/rss", HUGE_FEED, "application/rss+xml")
    if framing:
        site.framing["/rss"] = framing  # chunked, or no Content-Length at all: counted as it streams in
    with pytest.raises(Fatal) as err:
        list(web(base, "/rss", settings, pseudonymize, clock).fetch(None))
    assert settings.web_max_response_bytes == 5_000_000 and err.value.code == "too_large"
    assert str(err.value) == (f"web:{base}/rss: the response {says}, more than web_max_response_bytes=5000000; "
                              "check the URL or raise the setting")
    assert len(site.log) == 1  # not retried


def test_a_chunked_feed_under_the_limit_and_a_lying_content_length(site, base, settings, pseudonymize, clock):
    site.framing["/rss"] = "chunked"
    (page,) = web(base, "/rss", settings, pseudonymize, clock).fetch(None)
    assert page.items
    site.put("/rss", HUGE_FEED, "application/rss+xml")
    site.framing["/rss"] = "1000"  # claims 1,000 bytes, sends 11 MB: no more than the claim is read
    (page,) = web(base, "/rss", settings, pseudonymize, clock).fetch(None)
    assert page.items == () and page.quarantined[-1].raw["bytes"] == 1000  # an unparsable cut, quarantined
    small = settings.model_copy(update={"web_max_response_bytes": 2048})
    site.framing["/rss"] = "chunked"
    with pytest.raises(Fatal, match="is over 2,048 bytes"):
        list(web(base, "/rss", small, pseudonymize, clock).fetch(None))
