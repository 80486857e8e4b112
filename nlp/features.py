"""Model inputs of one text: its lemmas (rules, geo), the topic text and the genre text.

- topic text: lemmas without function words (negations 'не', 'нет', 'без' are kept) — what a post is about;
- genre text: every lemma (pronouns «я», «мы», «наш» tell a resident from an administration), grammar marks of
  the verb forms (nlp.normalize.word_info: 'отключат' future, 'отключено' short participle, imperatives),
  punctuation marks (p_q for «?», p_ex for «!», p_time for «9:00») and the post's structure — who wrote it
  and where (structure_tokens) — how a post speaks: a complaint, an official notice or other news.

Example:
    f = featurize("Когда уже починят? С 9:00 будет отключено", structure_tokens("post", True, "госпаблик"))
    f.topic_text   # 'починить 9 00 отключить'
    f.genre_text   # '… g_futr g_3per g_prts p_q p_time xofficialx'
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from nlp.normalize import lemmas_and_marks

STOPWORDS = frozenset(
    "в во на с со к ко по о об от до из за у для при и а но или же ли бы то что как так этот тот это который "
    "весь свой наш ваш мой твой его ее их он она они оно мы вы я ты быть также уже еще вот там тут здесь где "
    "когда".split()
)
OFFICIAL = "xofficialx"  # the own post of a госпаблик, an administration's or utility's page or site
MEDIA = "xmediax"  # the own post of a media outlet
COMMENT = "xcommentx"  # a comment under a post
CHANNEL_TOKENS = {"official_post": (OFFICIAL,), "media_post": (MEDIA,), "citizen_comment": (COMMENT,),
                  "citizen_post": (), "appeal": ()}
_QUESTION = re.compile(r"\?")
_EXCLAIM = re.compile(r"!")
_TIME = re.compile(r"(?<!\d)\d{1,2}[:.]\d{2}(?!\d)")


@dataclass(frozen=True)
class Features:
    """What the models and rules read of one text."""

    lemmas: list[str]
    topic_text: str
    genre_text: str


def model_text(lemma_seq: list[str]) -> str:
    """'в доме нет воды' lemmas -> 'дом нет вода' (the topic text)."""
    return " ".join(w for w in lemma_seq if w not in STOPWORDS)


def structure_tokens(kind: str | None, by_source: bool | None, source_kind: str | None) -> tuple[str, ...]:
    """Tokens for where a post stands: a comment; or a page's own post (official for госпаблик/web pages,
    media for media; a community's own post says nothing: communities publish residents' posts as their own)."""
    if kind == "comment":
        return (COMMENT,)
    if by_source:
        if source_kind in ("госпаблик", "web"):
            return (OFFICIAL,)
        if source_kind == "media":
            return (MEDIA,)
    return ()


def channel_tokens(channel: str | None) -> tuple[str, ...]:
    """Structure tokens of a labelled row's channel (datasets/LABELLING.md)."""
    return CHANNEL_TOKENS.get(channel or "", ())


def marks_of(text: str, grammar: list[str]) -> list[str]:
    """Grammar marks plus punctuation marks of a text."""
    return (grammar + ["p_q"] * min(len(_QUESTION.findall(text)), 3) + ["p_ex"] * min(len(_EXCLAIM.findall(text)), 3)
            + ["p_time"] * min(len(_TIME.findall(text)), 3))


def featurize(text: str, structure: tuple[str, ...] = ()) -> Features:
    """Lemmas, topic text and genre text of one text (one tokenisation, cached lemmas)."""
    seq, grammar = lemmas_and_marks(text)
    genre = " ".join([*seq, *marks_of(text, grammar), *structure])
    return Features(seq, model_text(seq), genre)
