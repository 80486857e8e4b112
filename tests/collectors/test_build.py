"""Collectors are built through the lead's registry; missing secrets switch a source off in one clean line."""
from __future__ import annotations

import asyncio

import pytest

from collectors.base import SourceConfig
from collectors.errors import NotConfigured
from collectors.ratelimit import Backoff, SimulatedClock, retry, shared_limiter
from collectors.registry import build_collector
from collectors.telegram import TelegramCollector
from collectors.vk import VkSearchCollector, VkWallCollector
from collectors.web import WebCollector
from tsur.settings import Settings

SOURCES = {
    "vk_wall": (SourceConfig("vk:wall:-1", "vk", "-1", options={"type": "vk_wall"}), VkWallCollector),
    "vk_search": (SourceConfig("vk:search:yalta", "vk", "yalta", options={"type": "vk_search", "query": "Ялта"}),
                  VkSearchCollector),
    "web": (SourceConfig("web:https://simf.rk.gov.ru/rss", "web", "https://simf.rk.gov.ru/rss", kind="web",
                         options={"type": "web"}), WebCollector),
}


@pytest.mark.parametrize("type_", sorted(SOURCES))
def test_registry_builds_each_type(type_, settings, pseudonymize):
    config, cls = SOURCES[type_]
    assert isinstance(build_collector(config, settings, pseudonymize), cls)


def test_registry_builds_telegram_with_a_real_string_session(tmp_path, pseudonymize):
    from telethon.sessions import StringSession

    session = StringSession()
    session.set_dc(2, "149.154.167.51", 443)
    session.auth_key = __import__("telethon.crypto", fromlist=["AuthKey"]).AuthKey(b"\x01" * 256)
    settings = Settings(data_dir=tmp_path, tg_api_id="12345", tg_api_hash="abcdef", tg_session=session.save())
    config = SourceConfig("tg:channel:simf_news", "tg", "simf_news", options={"type": "tg_channel"})
    collector = build_collector(config, settings, pseudonymize)
    assert isinstance(collector, TelegramCollector)

    async def make():  # telethon binds a client to the running loop; nothing connects here
        return collector.make_client()

    client = asyncio.run(make())
    assert type(client).__name__ == "TelegramClient" and client.flood_sleep_threshold == 0


@pytest.mark.parametrize("type_", ["vk_wall", "vk_search"])
def test_missing_vk_token_is_one_line_not_configured(type_, tmp_path, pseudonymize):
    with pytest.raises(NotConfigured) as err:
        build_collector(SOURCES[type_][0], Settings(data_dir=tmp_path), pseudonymize)
    assert str(err.value) == f"{SOURCES[type_][0].key}: TSUR_VK_TOKEN is not set"


def test_vk_clients_of_one_token_share_one_limiter(settings, pseudonymize):
    a = build_collector(SOURCES["vk_wall"][0], settings, pseudonymize)
    b = build_collector(SourceConfig("vk:wall:-2", "vk", "-2", options={"type": "vk_wall"}), settings, pseudonymize)
    assert a.client.limiter is b.client.limiter
    assert shared_limiter("web:x", 0.5) is shared_limiter("web:x", 0.5)


def test_retry_backs_off_then_gives_up():
    clock, calls = SimulatedClock(), []

    def flaky():
        calls.append(clock.now())
        raise TimeoutError("slow")

    with pytest.raises(TimeoutError):
        retry(flaky, is_transient=lambda e: 0.0, backoff=Backoff(attempts=4, base_s=1, cap_s=3), clock=clock)
    assert calls == [0.0, 1.0, 3.0, 6.0]
    with pytest.raises(ValueError):
        retry(lambda: int("x"), is_transient=lambda e: None, backoff=Backoff(), clock=clock)
    assert clock.now() == 6.0
