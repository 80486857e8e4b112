"""Collection caps an item's text (word boundary, marker) and stores its raw payload whole."""
from __future__ import annotations

from datetime import datetime, timezone

import sqlalchemy as sa

from collectors.base import SourceConfig
from storage.sources import sync_sources
from storage.tables import Item
from tsur.limits import MAX_TEXT_CHARS, cap_text, marker
from tsur.records import Page, RawItem
from tsur.stages.collect import collect_source

T0 = datetime(2026, 11, 20, tzinfo=timezone.utc)
CFG = SourceConfig(key="test:cap", platform="vk", handle="x", options={"type": "vk_wall"})
HUGE = "В Симферополе на ул. Ленина опять нет воды. " * 23_000  # ~1 MB


class OnePost:
    """One page with one huge post whose raw payload carries the whole text, as a VK post does."""

    source = CFG

    def fetch(self, cursor):
        yield Page((RawItem("vk", CFG.key, "1", T0, HUGE, raw={"id": 1, "text": HUGE}),
                    RawItem("vk", CFG.key, "2", T0, "короткий", raw={"id": 2, "text": "короткий"})), {"n": 1})


def test_a_1_mb_item_is_stored_with_capped_text_and_full_raw(sessions, caplog):
    assert len(HUGE) > 1_000_000
    with sessions.begin() as s:
        sync_sources(s, [CFG])
    out = collect_source(sessions, CFG.key, OnePost(), worker="w")
    assert (out.status, out.new) == ("ok", 2)
    with sessions() as s:
        big, small = s.scalars(sa.select(Item).order_by(Item.item_id)).all()
        assert len(big.text) <= MAX_TEXT_CHARS and big.text.endswith(marker(len(HUGE)))
        assert HUGE.startswith(big.text.removesuffix(marker(len(HUGE))) + " ")  # cut between words
        assert big.raw["text"] == HUGE  # the original, whole
        assert small.text == "короткий"
    assert "1 item text(s) longer than max_text_chars=20000 cut" in caplog.text
    assert "Симферопол" not in caplog.text  # a count, no text


def test_the_cap_is_a_setting():
    with_cap = collect_source.__kwdefaults__["max_text_chars"]
    assert with_cap == MAX_TEXT_CHARS
    from tsur.settings import load_settings

    assert load_settings().max_text_chars == MAX_TEXT_CHARS
    assert load_settings(max_text_chars=5000).max_text_chars == 5000


def test_cap_text_cuts_at_a_word_and_is_idempotent():
    assert cap_text("нет воды", 1000) == "нет воды"
    text = "слово " * 1000
    cut = cap_text(text, 1000)
    assert len(cut) <= 1000 and cut.endswith(marker(len(text)))
    assert cut.removesuffix(marker(len(text))).split(" ")[-1] == "слово"
    assert cap_text(cut, 1000) == cut  # re-collecting the same post changes nothing
    assert len(cap_text("я" * 5000, 1000)) == 1000  # one endless "word" is cut as is
