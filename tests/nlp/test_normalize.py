"""Golden tables for normalisation, lemmas and tokens."""
from pathlib import Path

import pytest

from nlp.normalize import dawg_backend, fix_lookalikes, lemma, word_info, lemmas, normalize_text, tokenize

HERE = Path(__file__).parent


def read_table(name: str) -> list[tuple[str, str]]:
    """(input, expected) pairs of a tab-separated golden file, comments skipped."""
    lines = (HERE / name).read_text(encoding="utf-8").splitlines()
    return [tuple(line.split("\t")) for line in lines if line and not line.startswith("#")]


@pytest.mark.parametrize(("text", "expected"), read_table("golden_normalize.tsv"))
def test_normalize_text_golden(text, expected):
    assert normalize_text(text) == expected


@pytest.mark.parametrize(("text", "expected"), read_table("golden_lemmas.tsv"))
def test_lemmas_golden(text, expected):
    assert " ".join(lemmas(text)) == expected


def test_tokens_point_into_the_original_text():
    text = "Нет вОды, ул.Ленина 5 — https://vk.com/x"
    tokens = tokenize(text)
    assert [t.text for t in tokens][:4] == ["Нет", "вОды", ",", "ул"]
    assert all(text[t.start:t.stop] == t.text for t in tokens)


def test_lookalikes_are_fixed_only_inside_cyrillic_words():
    assert fix_lookalikes("вOда и WiFi") == "вОда и WiFi"


def test_lemma_is_cached_and_lowercased():
    word_info.cache_clear()
    assert lemma("Больницы") == "больница"
    assert lemma("больницы") == "больница"
    assert word_info.cache_info().hits == 0 and word_info.cache_info().misses == 2
    assert lemma("Больницы") == "больница"
    assert word_info.cache_info().hits == 1


def test_dawg_backend_is_reported():
    assert dawg_backend() in {"dawg (C extension)", "dawg_python (pure Python)"}
