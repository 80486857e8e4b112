"""Find gazetteer names in a text: longest lemma n-gram first, with cue, capital and street guards.

Example:
    >>> from nlp.geo.gazetteer import load_gazetteer
    >>> [m.text for m in find_mentions("Опять в Старом Крыму нет воды", load_gazetteer())]
    ['Старом Крыму']
"""
from __future__ import annotations

import re
from dataclasses import replace
from functools import lru_cache

from nlp.geo.forms import key_lemma, surface_forms
from nlp.geo.gazetteer import Gazetteer
from nlp.geo.records import Entry, Mention
from nlp.normalize import Token, get_morph, tokenize

# Settlement-type words that make a common word a place name: «с. Мирное», «в селе Победа».
CUES = frozenset({"с", "село", "пгт", "поселок", "пос", "п", "г", "город", "деревня", "д", "смт", "поселение"})
DOTTED_CUES = frozenset({"с", "п", "г", "д"})
# Street words: «ул. Севастопольская» and «Ялтинская улица» are streets, not places.
STREET_BEFORE = frozenset({"ул", "улица", "пр", "проспект", "пр-т", "пер", "переулок", "бульвар", "б-р",
                           "шоссе", "пл", "площадь", "наб", "набережная", "проезд", "спуск", "тупик"})
STREET_AFTER = frozenset({"улица", "ул", "проспект", "пр", "пр-т", "переулок", "пер", "шоссе", "ш", "бульвар",
                          "площадь", "пл", "проезд", "спуск", "трасса", "аллея", "наб", "набережная", "просп"})
# Plural street words name the streets OF a place: «на улицах Севастополя», «20 улиц Алушты».
PLURAL_STREETS = frozenset({"улиц", "улицам", "улицами", "улицах", "переулков", "переулкам", "переулках",
                            "проспектов", "проспектах", "площадей", "площадях", "набережных", "дворов", "дворах"})
HOUSE_WORDS = frozenset({"д", "дом", "кв", "к", "корп", "корпус", "стр", "лит", "парадная", "подъезд"})
GREETING_AFTER = frozenset({"утро", "день", "вечер", "ночь"})  # «Доброе утро» is not the village Доброе
AREA_AFTER = frozenset({"район", "округ", "область", "край", "республика", "сельсовет"})
HEADER_MARKS = frozenset({":", ",", "—", "–", "-"})
SENTENCE_END = frozenset({".", "!", "?", "…", "!!", "?!", "..."})
QUOTES = frozenset({"«", '"', "“", "„"})
_WORD = re.compile(r"\w")
_DASHES = re.compile(r"[-–—]")
_CANDIDATE = re.compile(r"\w+(?:[-–—]\w+)*")
_ROUTE_DASH = re.compile(r"[ \t]*[-–—][ \t]*")
_ROUTE_TO = re.compile(r"[ \t]+(?:в|во|до|на)[ \t]+", re.IGNORECASE)  # «из Евпатории в Севастополь»
_ROUTE_FROM = re.compile(r"(?:^|[^\w])(?:из|от|со?)[ \t]+$", re.IGNORECASE)


def lemmas_of(tokens: list[Token]) -> list[str]:
    """Key lemmas of word tokens, punctuation kept as is (it never matches a key)."""
    return [key_lemma(t.text) if _WORD.match(t.text) else t.text for t in tokens]


def previous_word(lemmas: list[str], i: int) -> str:
    """The lemma before position i, skipping one abbreviation dot ('с', '.', 'Мирное' -> 'с')."""
    j = i - 1
    if j >= 0 and lemmas[j] == ".":
        j -= 1
    return lemmas[j] if j >= 0 else ""


def has_cue(lemmas: list[str], i: int) -> bool:
    """A settlement word before token i; one-letter ones need their dot («с. Мирное», not «с мирным»)."""
    word = previous_word(lemmas, i)
    if word in DOTTED_CUES:
        return i >= 2 and lemmas[i - 1] == "."
    return word in CUES


def starts_sentence(text: str, tokens: list[Token], i: int) -> bool:
    """True at the start of the text, after . ! ? or at a new line."""
    if i == 0:
        return True
    prev = tokens[i - 1]
    return prev.text in SENTENCE_END or "\n" in text[prev.stop:tokens[i].start]


def capital_at(text: str, tokens: list[Token], i: int, stop: int) -> str:
    """Capital-letter clue at token i: 'mid' (inside a sentence), 'header' (a first word before
    ':', ',' or a dash: 'Мирное: нет воды'), 'start' (a first word before other punctuation),
    'opening' (a first word followed by more words: 'Мирное небо'), or '' (lower case, ALL CAPS)."""
    word = tokens[i].text
    if not word[:1].isupper() or word.isupper():
        return ""
    if not starts_sentence(text, tokens, i):
        return "mid"
    after = tokens[stop].text if stop < len(tokens) else ""
    if after in HEADER_MARKS:
        return "header"
    return "opening" if _WORD.match(after) else "start"


def is_street(tokens: list[Token], lemmas: list[str], i: int, stop: int) -> bool:
    """A street or a foreign area: «ул. Киевская», «Севастопольская улица», «Приморского ш.»,
    «Приморского района» (gazetteer districts are longer keys and match first)."""
    after = lemmas[stop] if stop < len(lemmas) else ""
    raw = tokens[stop].text.lower() if stop < len(tokens) else ""
    before = previous_word(lemmas, i) in STREET_BEFORE and tokens[i - 1].text.lower() not in PLURAL_STREETS
    return before or after in STREET_AFTER or raw in STREET_AFTER or after in AREA_AFTER or after in GREETING_AFTER


def street_after(text: str, tokens: list[Token], lemmas: list[str], stop: int) -> str | None:
    """«ул. Киевская» following a place («Симферополь, ул. Киевская»), else None."""
    j = stop + 1 if stop < len(lemmas) and lemmas[stop] == "," else stop
    if j >= len(lemmas) or lemmas[j] not in STREET_BEFORE:
        return None
    k = j + 2 if j + 1 < len(lemmas) and lemmas[j + 1] == "." else j + 1
    if k >= len(tokens) or not tokens[k].text[:1].isupper():
        return None
    return text[tokens[j].start:tokens[k].stop]


SUPPORT = ("sure", "weak", "tentative")


def support_of(entry: Entry, cue: bool, capital: str, surface: str) -> str | None:
    """How well one entry is supported here; None when it is just an ordinary word.

    A person-derived name (cue level 2) counts on its capital only when written exactly as the
    place («в Ленино»), not as the person («памятник Ленину»).
    """
    if entry.cue == 0:
        return "sure"
    if entry.via == "name" and surface not in surface_forms(entry.place.name):
        return None  # «Добрый день» is no form of Доброе, «г. Пушкин» none of Пушкино
    if cue or entry.cue == 1 and capital == "header":
        return "sure"
    if entry.cue == 1 and capital in ("mid", "start"):
        return "weak"
    if capital in ("mid", "header") and surface == entry.place.name.lower().replace("ё", "е"):
        return "weak"
    return "tentative" if capital else None


def usable(entries: tuple[Entry, ...], cue: bool, capital: str, surface: str) -> tuple[tuple[Entry, ...], str]:
    """The best-supported entries allowed here and their support ('sure', 'weak', 'tentative')."""
    graded = [(support_of(e, cue, capital, surface), e) for e in entries]
    graded = [(s, e) for s, e in graded if s]
    if not graded:
        return (), ""
    best = min(SUPPORT.index(s) for s, _ in graded)
    return tuple(e for s, e in graded if SUPPORT.index(s) == best), SUPPORT[best]


def is_house_number(tokens: list[Token], i: int) -> bool:
    """«34,», «117к1», «39/1», «23 кв» — an address, not «3 дня»."""
    after = tokens[i + 1].text.lower() if i + 1 < len(tokens) else ""
    return not tokens[i].text.isdigit() or not _WORD.match(after) or after in HOUSE_WORDS


def modifies_noun(tokens: list[Token], stop: int) -> bool:
    """The adjective before `stop` agrees with the noun after it («Мирное небо», «Северном банке»)
    or a house number follows («Фрунзе 23»): a name of something else."""
    if stop >= len(tokens):
        return False
    after = tokens[stop].text
    if after[:1].isdigit():
        return is_house_number(tokens, stop)
    adjectives = readings(tokens[stop - 1].text.lower(), "ADJF")
    nouns = readings(after.lower(), "NOUN")
    return any(a[0] == n[0] and a[1] == n[1] and (a[1] == "plur" or a[2] == n[2]) for a in adjectives for n in nouns)


@lru_cache(maxsize=50_000)
def readings(word: str, pos: str) -> tuple[tuple[str, str, str], ...]:
    """(case, number, gender) of the readings of `word` as `pos` (not a place), none unless pymorphy3
    reads it first as `pos` («уже» is no form of «уж» here; «парке» is «парк» or «парка»)."""
    parses = get_morph().parse(word)
    if pos not in parses[0].tag:
        return ()
    return tuple((p.tag.case, p.tag.number, p.tag.gender) for p in parses if pos in p.tag and "Geox" not in p.tag)


def is_prefixed(tokens: list[Token], i: int) -> bool:
    """Token i-1, whose lemma starts other names of the region («Нижний», «Новая», «Красный»), is a
    capitalised adjective: the two words are one name, and not the place named by the second."""
    word = tokens[i - 1].text
    return word[:1].isupper() and bool(readings(word.lower(), "ADJF"))


def match_at(text: str, tokens: list[Token], lemmas: list[str], i: int, gaz: Gazetteer) -> Mention | None:
    """The longest acceptable mention starting at token i."""
    longest = min(gaz.longest.get(lemmas[i], 0), len(lemmas) - i)
    for n in range(longest, 0, -1):
        entries = gaz.index.get(tuple(lemmas[i:i + n]))
        if not entries or is_street(tokens, lemmas, i, i + n):
            continue
        cue = has_cue(lemmas, i)
        if not cue and i > 0 and tokens[i - 1].text in QUOTES:
            continue  # «Победа», "Дружба": a shop or a company, not the village
        start, stop = tokens[i].start, tokens[i + n - 1].stop
        surface = " ".join(t.text for t in tokens[i:i + n]).lower().replace("ё", "е")
        capital = capital_at(text, tokens, i, i + n)
        if capital and not cue and any(e.cue for e in entries) and modifies_noun(tokens, i + n):
            capital = ""
        if i and lemmas[i - 1] in gaz.prefixes and not cue and is_prefixed(tokens, i) \
                and not all(e.place.type == "г." for e in entries):
            return None  # «Нижний Солнечный», «Новая Николаевка»: a longer name the gazetteer lacks
        homonyms = len(entries)  # one entry per place and key
        entries, support = usable(entries, cue, capital, surface)
        if entries:
            street = street_after(text, tokens, lemmas, i + n)
            return Mention(start, stop, text[start:stop], entries, cue, support, street, None, homonyms)
    return None


def split_compounds(tokens: list[Token], gaz: Gazetteer) -> list[Token]:
    """Split «Ялта-Симферополь», «Симферополь—Ялта» (one razdel token) unless the whole is a name."""
    out: list[Token] = []
    for token in tokens:
        parts = _DASHES.split(token.text)
        if len(parts) == 1 or not all(p[:1].isupper() and len(p) > 1 for p in parts) \
                or "-" in token.text and not all((key_lemma(p),) in gaz.index for p in parts):
            out.append(token)  # «Сары-Баш», «Южно-Сахалинск» stay whole; «Ялта-Симферополь» splits
            continue
        start = token.start
        for part in parts:
            begin = token.text.index(part, start - token.start) + token.start
            out.append(Token(part, begin, begin + len(part)))
            start = begin + len(part)
    return out


def may_mention(text: str, gaz: Gazetteer) -> bool:
    """False only when no word of `text` (nor a part of a dashed word) can start a mention.

    A cheap test before razdel's tokenizer, which costs most of the time of geo on texts with no place.
    """
    for word in _CANDIDATE.findall(text):
        if key_lemma(word) in gaz.longest:
            return True
        if _DASHES.search(word) and any(key_lemma(p) in gaz.longest for p in _DASHES.split(word) if p):
            return True
    return False


def mark_routes(text: str, mentions: list[Mention]) -> list[Mention]:
    """Mark settlements joined by dashes as the ends of a route name («Керчь — Симферополь», «Ялта-Алушта»),
    and the two ends of «из A в B» / «от A до B» («на дороге из Евпатории в Севастополь»)."""
    if len(mentions) < 2:
        return mentions
    links = [k for k in range(len(mentions) - 1) if mentions[k + 1].start - mentions[k].stop < 8
             and is_route_link(text, mentions[k], mentions[k + 1])]
    marked = list(mentions) if links else mentions
    k = 0
    while k < len(links):  # a chain of links is one route: «Симферополь–Алушта–Ялта»
        first = last = links[k]
        while k + 1 < len(links) and links[k + 1] == last + 1:
            k, last = k + 1, links[k + 1]
        route = text[mentions[first].start:mentions[last + 1].stop]
        marked[first:last + 2] = [replace(m, route=route) for m in mentions[first:last + 2]]
        k += 1
    return marked


def is_route_link(text: str, left: Mention, right: Mention) -> bool:
    """Settlements of different municipalities with only a dash and a few spaces between them
    («Ялта — Массандра: …», both in one okrug, stays a list: its municipality is sure)."""
    joined = bool(_ROUTE_DASH.fullmatch(text, left.stop, right.start)) or (
        bool(_ROUTE_TO.fullmatch(text, left.stop, right.start)) and bool(_ROUTE_FROM.search(text[max(0, left.start - 4):left.start])))
    return joined and all(e.place.kind == "settlement" for m in (left, right) for e in m.entries) and \
        not {e.place.municipality for e in left.entries} & {e.place.municipality for e in right.entries}


def find_mentions(text: str, gaz: Gazetteer, tokens: list[Token] | None = None) -> list[Mention]:
    """All non-overlapping place mentions of a text, left to right; route ends marked."""
    if tokens is None and not may_mention(text, gaz):
        return []
    tokens = split_compounds(tokenize(text) if tokens is None else tokens, gaz)
    lemmas = lemmas_of(tokens)
    mentions: list[Mention] = []
    i = 0
    while i < len(tokens):
        mention = match_at(text, tokens, lemmas, i, gaz) if lemmas[i] in gaz.longest else None
        if mention is None:
            i += 1
            continue
        mentions.append(mention)
        while i < len(tokens) and tokens[i].start < mention.stop:
            i += 1
    return mark_routes(text, mentions)
