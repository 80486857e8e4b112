"""Fixtures for collector tests: the fake VK server on a simulated clock, settings, a pseudonymizer."""
from __future__ import annotations

import pytest

from collectors.pseudonym import Pseudonymizer
from collectors.ratelimit import SimulatedClock
from tests.collectors.fake_vk import FakeVk, FakeVkServer
from tests.collectors.vk_schema import VkSchema
from tsur.settings import Settings

NOW = 1_763_900_000  # 2025-11-23 12:13:20 UTC: the "current time" of every collector test
TOKEN = "test-token-never-logged"


@pytest.fixture(scope="session")
def vk_schema(shared_data):
    return VkSchema(shared_data / "vk_api_schema")


@pytest.fixture
def clock():
    return SimulatedClock(start=1000.0)


@pytest.fixture
def fake_vk(vk_schema, clock):
    fake = FakeVk(token=TOKEN, schema=vk_schema, clock=clock)
    yield fake
    assert fake.schema_errors == [], fake.schema_errors[:5]


@pytest.fixture
def vk_url(fake_vk):
    with FakeVkServer(fake_vk) as url:
        yield url


@pytest.fixture
def settings(tmp_path):
    return Settings(vk_token=TOKEN, data_dir=tmp_path, vk_lookback_s=3 * 24 * 3600, max_pages_per_poll=50,
                    tg_api_id="12345", tg_api_hash="0123456789abcdef", tg_session="1fake", web_min_interval_s=0.5)


@pytest.fixture
def pseudonymize():
    return Pseudonymizer(b"k" * 32)
