"""Normalisation and geo take any text: no crash, offsets point into the original, answers stay sane."""
from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from nlp.geo import load_gazetteer, locate
from nlp.geo.matcher import find_mentions, may_mention
from nlp.normalize import lemmas, normalize_text, tokenize, words
from tests.property.strategies import texts

GAZ = load_gazetteer("crimea")
MUNICIPALITIES = sorted(set(GAZ.homes.values()))
HOMES = sorted(GAZ.homes)


@given(texts)
def test_normalize_any_text(text):
    norm = normalize_text(text)
    assert isinstance(norm, str) and norm == norm.strip() and "ё" not in norm
    assert normalize_text(norm) == norm  # a fixed point: normalising twice changes nothing
    assert all(w and " " not in w for w in words(text))
    assert all(isinstance(x, str) and x for x in lemmas(text[:2000]))


@given(texts)
def test_token_offsets_point_into_the_original(text):
    for token in tokenize(text[:5000]):
        assert text[token.start:token.stop] == token.text


@given(texts, st.one_of(st.none(), st.sampled_from(HOMES)))
def test_locate_any_text(text, home):
    match = locate(text[:5000], home)
    assert match.municipality is None or match.municipality in MUNICIPALITIES
    assert 0.0 <= match.confidence <= 1.0
    assert match.settlement is None or match.municipality is not None
    if match.evidence:
        assert match.municipality is not None


PLACE_WORDS = sorted({w for name in list(GAZ.homes)[:200] for w in name.split()})
near_places = st.lists(st.one_of(st.sampled_from(PLACE_WORDS), st.sampled_from(
    ["в", "с.", "пгт", "ул.", "-", "—", "«", "»", "Симф", "ЮБК", "2021г", "Сары-Баш", "Ялта-Симферополь"]),
    st.text(max_size=12)), max_size=12).map(" ".join)


@given(st.one_of(texts, near_places))
def test_the_cheap_prefilter_never_hides_a_mention(text):
    """may_mention() lets find_mentions skip razdel: it may say yes wrongly, never no wrongly."""
    text = text[:5000]
    if not may_mention(text, GAZ):
        assert find_mentions(text, GAZ, tokenize(text)) == []
