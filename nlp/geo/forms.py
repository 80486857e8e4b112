"""Lemma keys of place names: every case form of a name, lemmatised the way run time will see it.

A key is the tuple of `nlp.normalize.lemma` of the name's word tokens, joined by one space in the
config ('старый крым'). Build time declines each name with pymorphy3 and keeps the lemma key of
every form, so that «в Старом Крыму» and «Партените» hit the same key as the nominative, even where
pymorphy3's first guess for an unknown word is odd ('партенит' -> 'партенить').

Example:
    >>> {"старый крым", "партенить"} <= name_keys("Старый Крым") | name_keys("Партенит")
    True
"""
from __future__ import annotations

import re
from functools import lru_cache

from nlp.normalize import get_morph, lemma, tokenize

CASES = ("nomn", "gent", "datv", "accs", "ablt", "loct", "loc2")
_WORD = re.compile(r"\w")
_PERSON = frozenset({"Name", "Surn", "Patr"})
# Abbreviations that stand for a word of a key ('Бахчисарайского р-на' -> 'бахчисарайский район').
SYNONYMS = {"р-н": "район", "р-на": "район", "р-не": "район", "р-ну": "район", "р-ном": "район", "рн": "район"}


def word_tokens(text: str) -> list[str]:
    """Word tokens of a name as run time tokenises them ('Сары-Баш' -> ['Сары-Баш'])."""
    return [t.text for t in tokenize(text) if _WORD.match(t.text)]


def key_lemma(word: str) -> str:
    """The lemma of one word as keys use it ('р-на' -> 'район', 'Крыму' -> 'крым')."""
    lem = lemma(word)
    return SYNONYMS.get(lem, lem)


def key_of(words: list[str]) -> str:
    """The lemma key of a sequence of word forms ('Старом', 'Крыму' -> 'старый крым')."""
    return " ".join(key_lemma(w) for w in words)


def declensions(word: str) -> list[str]:
    """Case forms of one word as a name in the nominative, itself first ('Ялта' -> ['ялта', 'ялты', …])."""
    low = word.lower()
    forms = [low]
    parses = [p for p in get_morph().parse(low) if "nomn" in p.tag][:2]
    for case in CASES:
        for parse in parses:
            inflected = parse.inflect({case})
            if inflected is not None:
                forms.append(inflected.word)
                break
        else:
            forms.append(low)
    return forms


def adjective_forms(word: str) -> list[str]:
    """Every gender, number and case form of a one-word adjective ('судакский' -> 'судакская', …)."""
    parses = [p for p in get_morph().parse(word.lower()) if "ADJF" in p.tag][:1]
    forms = []
    for parse in parses:
        for number in ("masc", "femn", "neut", "plur"):
            for case in CASES:
                inflected = parse.inflect({number, case})
                forms += [inflected.word] if inflected is not None else []
    return forms


# Case endings by the ending of a name, for words pymorphy3 cannot decline as names ('Зуя' -> 'Зуе').
ENDINGS = (("ое", ("ое", "ого", "ому", "ым", "ом")), ("ее", ("ее", "его", "ему", "им", "ем")),
           ("ый", ("ый", "ого", "ому", "ым", "ом")), ("ий", ("ий", "его", "ему", "им", "ем")),
           ("а", ("а", "ы", "и", "е", "у", "ой")), ("я", ("я", "и", "е", "ю", "ей")),
           ("о", ("о", "а", "у", "ом", "е")), ("ы", ("ы", "ов", "ам", "ах", "ами")),
           ("и", ("и", "ей", "ям", "ях", "ами", "ов", "ах")))


def ending_forms(word: str) -> set[str]:
    """Case forms of one word by its ending alone ('зуя' -> {'зуя', 'зуи', 'зуе', 'зую', 'зуей'})."""
    for ending, endings in ENDINGS:
        if word.endswith(ending):
            return {word[: -len(ending)] + e for e in endings}
    return {word} | {word + e for e in ("а", "у", "ом", "е", "ы")}


@lru_cache(maxsize=4096)
def surface_forms(name: str) -> frozenset[str]:
    """Lower-case case forms of a name as written ('Доброе' -> {'доброе', 'доброго', …}, not 'добрый')."""
    words = word_tokens(name.lower().replace("ё", "е"))
    forms = {" ".join(f) for f in zip(*[declensions(w) for w in words])}
    if len(words) == 1:
        forms |= ending_forms(words[0])
    return frozenset(f.replace("ё", "е") for f in forms)


def name_keys(name: str) -> set[str]:
    """All lemma keys of a place name in any case ('Партенит' -> {'партенит', 'партенить'})."""
    words = word_tokens(name)
    if not words:
        return set()
    columns = [declensions(w) for w in words]
    keys = {key_of(list(forms)) for forms in zip(*columns)}
    if len(words) == 1:  # «Судакская администрация», «в Судакском районе»
        keys |= {key_lemma(form) for form in adjective_forms(words[0])}
    return keys


def is_common_word(lemma_text: str) -> bool:
    """True for a dictionary word read first as no place ('мирный', 'находка'), False for 'ялта', 'кача'."""
    first = get_morph().parse(lemma_text)[0]
    return first.is_known and "Geox" not in first.tag


def is_person_word(lemma_text: str) -> bool:
    """True when the lemma's first reading is a dictionary personal name ('ленин', 'никита')."""
    first = get_morph().parse(lemma_text)[0]
    return first.is_known and bool(_PERSON & set(first.tag.grammemes))


def is_known_word(lemma_text: str) -> bool:
    """True when pymorphy3's dictionary has the word ('киров', 'орех'), not just a guess."""
    return get_morph().parse(lemma_text)[0].is_known


def needs_cue(key: str) -> int:
    """How much a key needs a settlement cue: 0 no, 1 an ordinary word ('мирный'), 2 a person ('ленин')."""
    parts = key.split()
    if any(is_person_word(p) for p in parts):
        return 2
    return int(all(is_common_word(p) for p in parts))
