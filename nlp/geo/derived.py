"""Demonyms and adjectives of a place name by suffix rules: «Ялта» -> ялтинец/ялтинцы, ялтинский.

Build time only. A rule maps the ending of a one-word name to the stems of its adjective (-ский), its
-ец demonym and its -анин demonym; each derived word is declined by its own ending (no pymorphy3 guess
of an unknown word's paradigm is needed) and every case form is keyed the way run time lemmatises it.
`ordinary_word` is the check that keeps a derived word out of the gazetteer when pymorphy3 knows it as
another word («гвардейцы» of Гвардейское are guardsmen, «армянский» of Армянск is Armenian).

Example:
    >>> sorted(derived_words("Керчь"))
    ['керчанин', 'керченский']
    >>> "ялтинец" in derived_keys("ялтинцы")
    True
"""
from __future__ import annotations

import re
from collections import Counter

from nlp.geo.forms import key_lemma
from nlp.geo.records import Place
from nlp.normalize import get_morph

# (name ending, adjective stem ending, -ец stem ending, -анин stem ending); first match wins. A stem
# replaces the ending: Ялт|а -> ялт+инск|ий, ялт+ин|цы. None: no such word by this rule.
RULES = (
    ("поль", "польск", "поль", None),  # Симферополь: симферопольский, симферопольцы
    ("чь", "ченск", None, "ч"),  # Керчь: керченский, керчане
    ("ия", "ийск", "ий", None),  # Феодосия: феодосийский, феодосийцы
    ("ея", "ейск", "ей", None),
    ("вка", "вск", "в", None),  # Петровка: петровский, петровцы
    ("ское", "ск", "", None),  # Черноморское: черноморский, черноморцы
    ("ное", "ненск", "нен", None),  # Раздольное: раздольненский, раздольненцы
    ("ский", None, "", None),  # Нижнегорский: нижнегорцы
    ("ный", None, "нен", None),  # Мирный: мирненцы
    ("ск", "ск", "", "ч"),  # Армянск, Белогорск: белогорский, белогорцы, белогорчане
    ("ь", "ск", "", None),  # Казань: казанский, казанцы
    ("а", "инск", "ин", None),  # Ялта, Алупка: ялтинский, ялтинцы
    ("я", "йск", "й", None),  # Зуя: зуйский, зуйцы
    ("о", "ск", "", None),  # Щёлкино: щёлкинский, щёлкинцы
    ("и", "ск", None, "ч"),  # Саки: сакский, сакчане
    ("ы", "ск", None, "ч"),
    ("й", "йск", "й", None),  # Джанкой, Бахчисарай: джанкойский, джанкойцы
    ("к", "кск", "к", "ч"),  # Судак: судакский, судакцы, судачане
    ("", "ск", "", None),  # Инкерман, Гурзуф: инкерманский, инкерманцы
)
ADJECTIVE = ("ий", "ого", "ому", "им", "ом", "ая", "ой", "ую", "ое", "ие", "их", "ими")
ETS = ("а", "у", "ем", "е", "ы", "ев", "ам", "ами", "ах")  # after the stem + «ц»
ANIN = ("анин", "анина", "анину", "анином", "анине", "ане", "ан", "анам", "анами", "анах")
VOWELS = frozenset("аеиоуыэюя")
BASE_ENDINGS = ("", "а", "я", "о", "ы", "и", "ь", "е", "ин", "ия", "ие", "ье")
_RUSSIAN_WORD = re.compile(r"^[а-я]+$")
CONFIDENCE = {"demonym": 0.75, "adjective": 0.7}  # below a name's own 0.9: «керченский мост» is near Керчь
MIN_STEM = 2  # a one-letter stem («Уя» -> у|я) gives no derived words


def fits(name: str, ending: str) -> bool:
    """Whether a rule's ending fits: '' is any other consonant, 'й' one after a vowel."""
    if ending == "":
        return name[-1:] not in VOWELS and name[-1:] not in ("ь", "й")
    if ending == "й":
        return name.endswith("й") and name[-2:-1] in VOWELS
    return name.endswith(ending)


def rule_for(name: str) -> tuple[str, str | None, str | None, str | None] | None:
    """The first rule whose ending fits a one-word lower-case name."""
    return next((rule for rule in RULES if fits(name, rule[0])), None)


def derived_words(name: str) -> dict[str, str]:
    """Nominative derived words of a one-word name -> 'adjective' or 'demonym' ('Ялта' -> ялтинский, ялтинец)."""
    name = name.lower().replace("ё", "е")
    rule = rule_for(name) if _RUSSIAN_WORD.match(name) else None
    if rule is None:
        return {}
    ending, adjective, ets, anin = rule
    stem = name[: len(name) - len(ending)]
    if len(stem) < MIN_STEM:
        return {}
    words = {}
    if adjective is not None:
        words[stem + adjective + "ий"] = "adjective"
    if ets is not None:
        base = (stem + ets).rstrip("ь")
        words[(base[:-1] if base.endswith("й") else base) + "ец"] = "demonym"
    if anin is not None:
        words[stem + anin + "анин"] = "demonym"
    return words


def case_forms(word: str) -> list[str]:
    """Every case and number form of a derived word by its ending ('керчанин' -> керчане, керчан, …)."""
    if word.endswith("ий"):
        return [word[:-2] + e for e in ADJECTIVE]
    if word.endswith("анин"):
        return [word[:-4] + e for e in ANIN]
    base = word[:-2]  # «-ец»: симферопол|ец -> симферопольц|ы, джанко|ец -> джанкойц|ы
    oblique = base + "й" if base[-1:] in VOWELS else base + ("ь" if base.endswith("л") else "")
    return [word] + [oblique + "ц" + e for e in ETS]


def derived_keys(word: str) -> set[str]:
    """Run-time lemma keys of every form of a derived word, nominative plural or singular
    ('ялтинцы' -> {'ялтинец'}, 'керчане' -> {'керчанин', 'керчан'})."""
    word = word.lower().replace("ё", "е")
    if word.endswith("цы"):  # симферопольц|ы -> симферопол|ец, джанкойц|ы -> джанко|ец
        base = word[:-2].rstrip("ь")
        word = (base[:-1] if base.endswith("й") else base) + "ец"
    elif word.endswith("ане"):  # керчан|е -> керчан|ин
        word = word[:-1] + "ин"
    elif not word.endswith(("ий", "анин", "ец")):
        return set()
    return {key_lemma(form) for form in case_forms(word)}


def is_dictionary_word(key: str) -> bool:
    """pymorphy3 knows the word and reads it first as no place name ('гвардеец', not 'ялта')."""
    first = get_morph().parse(key)[0]
    return first.is_known and "Geox" not in first.tag


def other_base(word: str, own: set[str]) -> str | None:
    """A dictionary word, not a place, the derived word may come from instead of the place
    ('армянский' <- 'армянин', 'петровский' <- 'петров', 'ленинец' <- 'ленин'); another place
    elsewhere («Белогорье») is no such word."""
    stem = re.sub(r"(ский|ец|чанин|анин)$", "", word)
    stems = [stem, stem + "ь"] + ([stem[:-1]] if stem.endswith(("й", "н")) else [])
    for base in (s + e for s in stems for e in BASE_ENDINGS):
        for parse in get_morph().parse(base):
            lemma = parse.normal_form.replace("ё", "е")
            if parse.is_known and "Geox" not in parse.tag and lemma not in own and lemma != word \
                    and len(lemma) >= MIN_STEM:
                return lemma
    return None


def is_place_adjective(word: str) -> bool:
    """pymorphy3 knows the adjective as a place's ('раздольненский', 'симферопольский')."""
    return any(p.is_known and "Geox" in p.tag for p in get_morph().parse(word))


def ordinary_word(word: str, own: set[str]) -> bool:
    """A derived word pymorphy3 knows as another word («армянский» of Армянск may come from «армянин»,
    «петровский» of Петровка from «Петров»). A word the dictionary does not know can name nothing
    else; a known one («ялтинский», «симферополец») is the place's when no other word can be its base."""
    return is_dictionary_word(word) and other_base(word, own) is not None


def place_keys(name: str, own: set[str], name_is_ordinary: bool, stats: Counter) -> dict[str, str]:
    """Checked derived keys of a place name -> 'demonym' or 'adjective'; `stats` counts what was dropped.

    When the name is an ordinary word (Гвардейское, Приморский) its derived words are too
    («гвардейцы», «приморцы» of Приморье), unless pymorphy3 knows the adjective as a place's
    («раздольненский»). An ordinary derived word goes with all its keys; a key of one of its forms
    that lemmatises to another dictionary word goes alone."""
    words = sorted(derived_words(name).items())
    vouched = any(via == "adjective" and is_place_adjective(word) for word, via in words)
    found: dict[str, str] = {}
    for word, via in words:
        keys = sorted(derived_keys(word))
        stats["generated"] += len(keys)
        if name_is_ordinary and not vouched:
            stats["dropped: the place's name is an ordinary word"] += len(keys)
            continue
        if ordinary_word(word, own):
            stats["dropped: an ordinary word"] += len(keys)
            continue
        for key in keys:
            if key != word and is_dictionary_word(key):
                stats["dropped: a form reads as another word"] += 1
            else:
                found.setdefault(key, via)
    return found


def derived_names(places: list[Place], chosen: set[int], names: dict[tuple[str, int], tuple[str, int, float]],
                  ordinary: set[int]) -> tuple[dict[tuple[str, int], tuple[str, int, float]], Counter]:
    """(key, place id) -> (via, cue 0, confidence) for the demonyms and adjectives of the `chosen`
    places given their own `names`, and what the checks kept and dropped.

    A key that is another place's name is dropped (the name wins: «кировский» is Кировское, whatever
    else derives it); one that is the place's own name with a cue («белогорский», a lemma of «за
    Белогорском») becomes cue 0; one derived from two places keeps both (an ambiguous name).
    """
    owners: dict[str, set[int]] = {}
    for key, pid in names:
        owners.setdefault(key, set()).add(pid)
    stats: Counter = Counter()
    derived: dict[tuple[str, int], tuple[str, int, float]] = {}
    for place in (p for p in places if p.id in chosen):
        own = {k for k, pid in names if pid == place.id} | {place.name.lower().replace("ё", "е")}
        for key, via in place_keys(place.name, own, place.id in ordinary, stats).items():
            if owners.get(key, set()) - {place.id}:
                stats["dropped: another place's name"] += 1
            elif (key, place.id) in names and names[(key, place.id)][1] == 0:
                stats["dropped: the place's own name"] += 1
            else:
                derived[(key, place.id)] = (via, 0, CONFIDENCE[via])
                stats["kept"] += 1
    return derived, stats
