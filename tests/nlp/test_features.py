"""Model inputs: one tokenisation gives the rules' lemmas, the topic text and the genre text with its marks."""
from hypothesis import given, settings
from hypothesis import strategies as st

from nlp.features import COMMENT, MEDIA, OFFICIAL, channel_tokens, featurize, structure_tokens
from nlp.normalize import lemmas, word_info


def test_grammar_marks_tell_announcements_from_complaints():
    assert word_info("отключат") == ("отключить", "g_futr g_3per")
    assert word_info("отключено") == ("отключить", "g_prts")
    assert word_info("отключили") == ("отключить", "g_past")
    assert word_info("сделайте")[1] == "g_impr"
    assert word_info("вода") == ("вода", "")
    assert word_info("xurlx") == ("xurlx", "")


def test_genre_text_keeps_pronouns_marks_punctuation_and_structure():
    f = featurize("Мы уже неделю без воды! Когда починят?", (COMMENT,))
    assert "мы" in f.genre_text.split() and "мы" not in f.topic_text.split()
    assert {"p_ex", "p_q", "g_futr", COMMENT} <= set(f.genre_text.split())
    notice = featurize("5 июня с 9:00 до 17:00 будет отключено электроснабжение")
    assert notice.genre_text.split().count("p_time") == 2 and "g_prts" in notice.genre_text.split()


def test_structure_tokens():
    assert structure_tokens("post", True, "госпаблик") == (OFFICIAL,)
    assert structure_tokens("article", True, "web") == (OFFICIAL,)
    assert structure_tokens("post", True, "media") == (MEDIA,)
    assert structure_tokens("post", True, "community") == ()  # communities publish residents' posts as their own
    assert structure_tokens("comment", False, "госпаблик") == (COMMENT,)
    assert structure_tokens("post", None, None) == ()
    assert channel_tokens("official_post") == (OFFICIAL,) and channel_tokens("appeal") == ()
    assert channel_tokens(None) == ()


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet="абвгдеёжзиклмнопрстуфхцчшщыьэюя АБВ.,!?:0123456789-xyz@/", max_size=80))
def test_featurize_lemmas_are_the_rules_lemmas(text):
    f = featurize(text)
    assert f.lemmas == lemmas(text)
    assert set(f.topic_text.split()) <= set(f.lemmas)
    assert set(f.lemmas) <= set(f.genre_text.split())
