"""Pick one place per mention (context, then home municipality, then size) and one answer per text.

The work is linear in the number of mentions: a municipality's context keeps only its first two
mentions (enough to find one other than the mention asking) and agreement keeps, per municipality,
the first choice and the first one worded otherwise; a 1 MB text naming places thousands of times
used to take minutes in the pairwise scans.
"""
from __future__ import annotations

from dataclasses import dataclass

from nlp.geo.records import GeoMatch, Mention, Place

CONTEXT_FACTOR = 0.9  # ambiguous name settled by another place in the text
HOME_FACTOR = 0.8  # … by the source's home municipality
WEAK_FACTOR = 0.7  # common-word name accepted for its capital letter only
ROUTE_FACTOR = 0.5  # only a route's ends are named («трасса Керчь — Симферополь»): below review's 0.5
HOME_ONLY_CONFIDENCE = 0.3  # no place in the text: the source's home municipality
LOCAL_SIZE = 5000  # people: a town's micro-district may share the name of smaller villages only
ROUTE_SHOWN = 100  # characters of a route quoted in a reason (a chain of dashed names can be the whole post)
Known = dict[str, tuple[Mention, ...]]  # municipality -> its first two mentions


@dataclass(frozen=True)
class Choice:
    """The place chosen for one mention, its confidence and how it was chosen."""

    mention: Mention
    place: Place
    confidence: float
    how: str


def municipalities(mention: Mention) -> set[str]:
    """Municipalities a mention may mean."""
    return {e.place.municipality for e in mention.entries}


def remember(found: Known, municipality: str, mention: Mention) -> None:
    """Keep a municipality's first two mentions."""
    seen = found.get(municipality, ())
    if len(seen) < 2:
        found[municipality] = seen + (mention,)


def anchors(mentions: list[Mention]) -> Known:
    """Municipality -> the mentions that name it without doubt."""
    found: Known = {}
    for mention in mentions:
        names = municipalities(mention)
        if len(names) == 1 and mention.support != "tentative":
            remember(found, names.pop(), mention)
    return found


def neighbours(mentions: list[Mention]) -> Known:
    """Municipality -> the non-tentative mentions that may name it (loose context)."""
    found: Known = {}
    for mention in mentions:
        if mention.support != "tentative":
            for name in sorted(municipalities(mention)):
                remember(found, name, mention)
    return found


def witness(known: Known, municipality: str, mention: Mention) -> Mention | None:
    """Another mention naming `municipality`, if any."""
    return next((m for m in known.get(municipality, ()) if m is not mention), None)


def in_context(entries: list, known: Known, mention: Mention) -> list:
    """Entries whose municipality another mention names."""
    return [e for e in entries if witness(known, e.place.municipality, mention)]


def heaviest(entries: list) -> tuple[Place, float]:
    """The biggest place of some entries (municipalities first: Ленинский район of Crimea before
    Sevastopol's) and its confidence."""
    best = max(entries, key=lambda e: (e.place.kind == "municipality", e.place.weight, -e.place.id))
    return best.place, max(e.confidence for e in entries if e.place == best.place)


def is_local(mention: Mention, contexts: tuple[Known, Known], home: str | None, urban: bool) -> bool:
    """In a post of a town's community (`urban` home: «городской округ Керчь»), an ordinary word that
    names several small places of the region («Солнечный», «Заречное»), with no «с.»/«пос.» before
    it, none of them in the home municipality or named nearby: rather the town's micro-district or
    street than the largest of those villages. A name of one place («Перевальное»), a large place
    («Кировское») and a district's community («в Каменке», Симферопольский район) keep the village."""
    entries = list(mention.entries)
    return urban and mention.homonyms > 1 and mention.support != "tentative" and not mention.cue \
        and all(e.cue and e.place.type != "г." and e.place.weight < LOCAL_SIZE for e in entries) \
        and all(e.place.municipality != home for e in entries) \
        and not any(in_context(entries, known, mention) for known in contexts)


def choose(mention: Mention, contexts: tuple[Known, Known], home: str | None) -> Choice | None:
    """One place for a mention, by context, home municipality, then size; None if unsupported.

    Context is first a municipality another mention names without doubt, then one it may name
    («Луговое Ленинского района»: Ленинский район of Crimea or of Sevastopol).
    """
    entries = list(mention.entries)
    places = {e.place for e in entries}
    factor = 1.0 if mention.support == "sure" else WEAK_FACTOR
    known = next((k for k in contexts if in_context(entries, k, mention)), {})
    context = in_context(entries, known, mention)
    if mention.support == "tentative" and not context:
        return None  # «Ленино», «Мирное небо» at a sentence start: only with another place nearby
    many = f"one of {len(places)} places so named"
    if len(places) == 1:
        place, base = heaviest(entries)
        seen = witness(known, place.municipality, mention) if mention.support == "tentative" else None
        return Choice(mention, place, base * factor, f"«{seen.text}» in the text" if seen else "")
    if context:
        place, base = heaviest(context)
        seen = witness(known, place.municipality, mention)
        return Choice(mention, place, base * factor * CONTEXT_FACTOR, f"{many}; «{seen.text}» in the text")
    at_home = [e for e in entries if e.place.municipality == home]
    if at_home:
        place, base = heaviest(at_home)
        return Choice(mention, place, base * factor * HOME_FACTOR, f"{many}; the source's home municipality")
    place, base = heaviest(entries)
    share = place.weight / max(1, sum(p.weight for p in places))
    return Choice(mention, place, base * factor * (0.4 + 0.3 * share), f"{many}; the largest")


def describe(choice: Choice, agrees: Choice | None) -> str:
    """A short human-readable reason: «Старом Крыму» → Старый Крым (г., Кировский район); …"""
    place = choice.place
    where = ", ".join(x for x in (place.type, place.municipality if place.kind == "settlement" else "",
                                  place.okrug) if x)
    target = f"{place.name} ({where})" if where else place.name
    parts = [f"«{choice.mention.text}» → {target}"]
    parts += [choice.how] if choice.how else []
    parts += [f"agrees with «{agrees.mention.text}»"] if agrees else []
    parts += [f"street {choice.mention.street}"] if choice.mention.street else []
    return "; ".join(parts)


def is_centre(place: Place) -> bool:
    """The town an urban okrug is named after (Судак in «городской округ Судак»)."""
    return place.kind == "settlement" and place.municipality.endswith(f" {place.name}")


Agreement = dict[str, tuple[Choice, Choice | None]]  # municipality -> first choice, first worded otherwise


def agreement(choices: list[Choice]) -> Agreement:
    """Per municipality, its first choice and the first one with other words («Ялта», then «Массандра»)."""
    index: Agreement = {}
    for choice in choices:
        first, other = index.get(choice.place.municipality, (choice, None))
        if other is None and choice.mention.text != first.mention.text:
            other = choice
        index[choice.place.municipality] = (first, other)
    return index


def agreeing(choice: Choice, index: Agreement) -> Choice | None:
    """Another mention, worded otherwise, in the same municipality, if any (the first such)."""
    first, other = index[choice.place.municipality]
    return first if first.mention.text != choice.mention.text else other


def specificity(choice: Choice, index: Agreement) -> tuple[bool, bool, float]:
    """Sort key: agreeing with another mention, then a village over its okrug's town, then confidence."""
    agrees = agreeing(choice, index) is not None
    return agrees, agrees and not is_centre(choice.place), choice.confidence


def pick(choices: list[Choice]) -> tuple[Choice, Choice | None]:
    """The answer: the most specific agreeing settlement unless a stronger mention names another area."""
    index = agreement(choices)
    settlements = [c for c in choices if c.place.kind == "settlement"]
    areas = [c for c in choices if c.place.kind != "settlement"]
    best_area = max(areas, key=lambda c: c.confidence, default=None)
    best = max(settlements, default=None, key=lambda c: specificity(c, index))
    if best is None or (best_area and best_area.place.municipality != best.place.municipality
                        and best_area.confidence > best.confidence):
        best = best_area
    return best, agreeing(best, index)


def route_end(choices: list[Choice], home: str | None) -> GeoMatch:
    """Only a route is named («на трассе Керчь — Симферополь»): its end in the home municipality, else
    its first end, with a confidence low enough to send the text to review."""
    best = next((c for c in choices if c.place.municipality == home), choices[0])
    which = "its end in the source's home municipality" if best.place.municipality == home else "its first end"
    route = best.mention.route or ""
    route = route if len(route) <= ROUTE_SHOWN else route[:ROUTE_SHOWN].rstrip() + "…"
    reason = f"{describe(best, None)}; only the route «{route}» is named: {which}"
    return match_of(best, round(best.confidence * ROUTE_FACTOR, 3), reason)


def match_of(choice: Choice, confidence: float, reason: str) -> GeoMatch:
    """The GeoMatch of a chosen mention."""
    settlement = choice.place.name if choice.place.kind == "settlement" else None
    return GeoMatch(choice.place.municipality, settlement, choice.mention.text, round(min(confidence, 0.99), 3),
                    reason)


def home_only(home: str | None, local: Mention | None = None) -> GeoMatch:
    """No usable place in the text: the source's home municipality, if any."""
    if not home:
        return GeoMatch(None, None, None, 0.0, "no place named")
    if local is None:
        return GeoMatch(home, None, None, HOME_ONLY_CONFIDENCE, "no place named; the source's home municipality")
    return GeoMatch(home, None, None, HOME_ONLY_CONFIDENCE,
                    f"«{local.text}» is no place of the home municipality (a local name?); "
                    "the source's home municipality")


def answer(mentions: list[Mention], home: str | None, urban: bool = False) -> GeoMatch:
    """The GeoMatch of a text from its mentions and the source's home municipality (`urban`: a town's).

    A route's ends («трасса Керчь — Симферополь») give the answer only when no other place is named.
    """
    if not mentions:
        return home_only(home)
    contexts = (anchors(mentions), neighbours(mentions))
    local: list[Mention] = []
    choices: list[Choice] = []
    for mention in mentions:
        if urban and is_local(mention, contexts, home, urban):
            local.append(mention)
            continue
        choice = choose(mention, contexts, home)
        if choice is not None:
            choices.append(choice)
    places = [c for c in choices if c.mention.route is None]
    if not places:
        return route_end(choices, home) if choices else home_only(home, local[0] if local else None)
    best, agrees = pick(places)
    confidence = best.confidence
    if agrees:
        confidence = max(confidence, min(0.97, confidence + 0.1))
    return match_of(best, confidence, describe(best, agrees))
