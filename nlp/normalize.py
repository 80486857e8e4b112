"""Text normalisation: razdel tokens, cached pymorphy3 lemmas, look-alike letters, URLs/mentions/emoji.

Backend note: pymorphy3 reads its dictionaries with the C extension `dawg` when the `dawg2` package is
installed, else with the pure-Python `dawg_python` (`dawg_backend()` tells which). Measured here on one
core, analysing 20k posts cold: ~8,200 posts/s with the C reader, ~3,700 posts/s pure Python (lemmatising
cache misses dominates). Either way `lemma` keeps an LRU cache: social texts repeat words (~94 % hits).

Example:
    >>> normalize_text("Нет вОды на ул. Лeнина! https://vk.com/x @adm_yalta 😡")
    'нет воды на ул. ленина! xurlx xmentionx xemojix'
"""
from __future__ import annotations

import re
from functools import lru_cache
from typing import NamedTuple

import pymorphy3
import razdel

URL_TOKEN = "xurlx"
MENTION_TOKEN = "xmentionx"
EMOJI_TOKEN = "xemojix"
SPECIAL_TOKENS = frozenset({URL_TOKEN, MENTION_TOKEN, EMOJI_TOKEN})

_URL = re.compile(r"(?:https?://|www\.)\S+|\b(?:vk\.com|t\.me|vk\.cc)/\S+", re.IGNORECASE)
_VK_LINK = re.compile(r"\[(?:id|club|public)\d+\|([^\]]*)\]")  # [id123|Имя] -> Имя
_MENTION = re.compile(r"(?<![\w@])@[A-Za-z0-9_.]{2,}")
_EMOJI = re.compile(
    "[\U0001F000-\U0001FAFF\U00002600-\U000027BF\U0001F900-\U0001F9FF\U00002B00-\U00002BFF"
    "\U0000FE0F\U0000200D\U000020E3]+"
)
_WORD = re.compile(r"\w+")
_WORD_TOKEN = re.compile(r"\w+(?:-\w+)*")  # razdel's word tokens minus punctuation, ~10x faster
_CYR = re.compile(r"[а-яёА-ЯЁ]")
_LAT = re.compile(r"[A-Za-z]")
_LOOKALIKE = str.maketrans(
    "ABCEHKMOPTXYaceopxyk",
    "АВСЕНКМОРТХУасеорхук",
)
_SPACES = re.compile(r"[ \t\u00a0]+")


class Token(NamedTuple):
    """A razdel token with its offsets in the ORIGINAL text."""

    text: str
    start: int
    stop: int


@lru_cache(maxsize=1)
def get_morph() -> pymorphy3.MorphAnalyzer:
    """The process-wide pymorphy3 analyser (loading the dictionaries takes ~0.5 s)."""
    return pymorphy3.MorphAnalyzer()


def dawg_backend() -> str:
    """Which DAWG reader pymorphy3 uses: 'dawg (C extension)' or 'dawg_python (pure Python)'."""
    from pymorphy3 import dawg

    return "dawg (C extension)" if dawg.EXTENSION_AVAILABLE else "dawg_python (pure Python)"


def fix_lookalikes(text: str) -> str:
    """Replace Latin look-alike letters inside words that also contain Cyrillic ('вOда' -> 'вОда')."""

    def fix(match: re.Match[str]) -> str:
        word = match.group(0)
        if _CYR.search(word) and _LAT.search(word):
            return word.translate(_LOOKALIKE)
        return word

    return _WORD.sub(fix, text)


def normalize_text(text: str) -> str:
    """Lower-cased text with ё→е, look-alikes fixed and URLs/mentions/emoji replaced by tokens."""
    text = _URL.sub(f" {URL_TOKEN} ", text)
    text = _VK_LINK.sub(rf" {MENTION_TOKEN} \1", text)
    text = _MENTION.sub(f" {MENTION_TOKEN} ", text)
    text = _EMOJI.sub(f" {EMOJI_TOKEN} ", text)
    text = fix_lookalikes(text).lower().replace("ё", "е")
    return _SPACES.sub(" ", text).strip()


def tokenize(text: str) -> list[Token]:
    """razdel tokens of `text` with offsets into `text` itself."""
    return [Token(t.text, t.start, t.stop) for t in razdel.tokenize(text)]


def lemma(word: str) -> str:
    """pymorphy3 normal form of one word, lower-cased, ё→е ('больницы' -> 'больница')."""
    return word_info(word)[0]


@lru_cache(maxsize=200_000)
def word_info(word: str) -> tuple[str, str]:
    """(lemma, grammar marks) of one word: the marks say what a genre reads from the verb form —
    tense, person, imperative, participles ('отключат' -> ('отключить', 'g_futr g_3per'),
    'отключено' -> ('отключить', 'g_prts'), 'сделайте' -> ('сделать', 'g_impr'))."""
    word = word.lower().replace("ё", "е")
    if not _CYR.search(word):
        return word, ""
    parse = get_morph().parse(word)[0]
    return parse.normal_form.replace("ё", "е"), _marks(parse.tag)


def _marks(tag) -> str:
    pos = tag.POS
    if pos == "VERB":
        marks = [f"g_{tag.tense}" if tag.tense else "", f"g_{tag.person}" if tag.person else "",
                 "g_impr" if tag.mood == "impr" else ""]
        return " ".join(m for m in marks if m)
    if pos == "PRTS":
        return "g_prts"
    if pos == "PRTF":
        return "g_prtf"
    return ""


def words(text: str) -> list[str]:
    """Word tokens of the normalised text ('из-за' stays one word; punctuation dropped, special tokens kept)."""
    return _WORD_TOKEN.findall(normalize_text(text))


def lemmas(text: str) -> list[str]:
    """Lemmas of the word tokens of `text` ('Нет горячей воды' -> ['нет', 'горячий', 'вода'])."""
    return [w if w in SPECIAL_TOKENS else lemma(w) for w in words(text)]


def lemmas_and_marks(text: str) -> tuple[list[str], list[str]]:
    """`lemmas(text)` and, beside it, the non-empty grammar marks of its words (see `word_info`)."""
    seq, marks = [], []
    for w in words(text):
        if w in SPECIAL_TOKENS:
            seq.append(w)
            continue
        base, mark = word_info(w)
        seq.append(base)
        if mark:
            marks.append(mark)
    return seq, marks
