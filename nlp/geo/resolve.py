"""Pick one place per mention (context, then home municipality, then size) and one answer per text."""
from __future__ import annotations

from dataclasses import dataclass

from nlp.geo.records import GeoMatch, Mention, Place

CONTEXT_FACTOR = 0.9  # ambiguous name settled by another place in the text
HOME_FACTOR = 0.8  # … by the source's home municipality
WEAK_FACTOR = 0.7  # common-word name accepted for its capital letter only
HOME_ONLY_CONFIDENCE = 0.3  # no place in the text: the source's home municipality


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


def anchors(mentions: list[Mention]) -> dict[str, list[Mention]]:
    """Municipality -> the mentions that name it without doubt."""
    found: dict[str, list[Mention]] = {}
    for mention in mentions:
        names = municipalities(mention)
        if len(names) == 1 and mention.support != "tentative":
            found.setdefault(names.pop(), []).append(mention)
    return found


def neighbours(mentions: list[Mention]) -> dict[str, list[Mention]]:
    """Municipality -> the non-tentative mentions that may name it (loose context)."""
    found: dict[str, list[Mention]] = {}
    for mention in mentions:
        if mention.support != "tentative":
            for name in sorted(municipalities(mention)):
                found.setdefault(name, []).append(mention)
    return found


def witness(known: dict[str, list[Mention]], municipality: str, mention: Mention) -> Mention | None:
    """Another mention naming `municipality`, if any."""
    return next((m for m in known.get(municipality, ()) if m is not mention), None)


def in_context(entries: list, known: dict[str, list[Mention]], mention: Mention) -> list:
    """Entries whose municipality another mention names."""
    return [e for e in entries if witness(known, e.place.municipality, mention)]


def heaviest(entries: list) -> tuple[Place, float]:
    """The biggest place of some entries (municipalities first: Ленинский район of Crimea before
    Sevastopol's) and its confidence."""
    best = max(entries, key=lambda e: (e.place.kind == "municipality", e.place.weight, -e.place.id))
    return best.place, max(e.confidence for e in entries if e.place == best.place)


def choose(mention: Mention, contexts: tuple[dict, dict], home: str | None) -> Choice | None:
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


def specificity(choice: Choice, choices: list[Choice]) -> tuple[bool, bool, float]:
    """Sort key: agreeing with another mention, then a village over its okrug's town, then confidence."""
    agrees = agreeing(choice, choices) is not None
    return agrees, agrees and not is_centre(choice.place), choice.confidence


def pick(choices: list[Choice]) -> tuple[Choice, Choice | None]:
    """The answer: the most specific agreeing settlement unless a stronger mention names another area."""
    settlements = [c for c in choices if c.place.kind == "settlement"]
    areas = [c for c in choices if c.place.kind != "settlement"]
    best_area = max(areas, key=lambda c: c.confidence, default=None)
    best = max(settlements, default=None, key=lambda c: specificity(c, choices))
    if best is None or (best_area and best_area.place.municipality != best.place.municipality
                        and best_area.confidence > best.confidence):
        best = best_area
    return best, agreeing(best, choices)


def agreeing(choice: Choice, choices: list[Choice]) -> Choice | None:
    """Another mention in the same municipality, if any."""
    return next((c for c in choices if c is not choice and c.place.municipality == choice.place.municipality
                 and c.mention.text != choice.mention.text), None)


def answer(mentions: list[Mention], home: str | None) -> GeoMatch:
    """The GeoMatch of a text from its mentions and the source's home municipality."""
    if not mentions:
        if home:
            return GeoMatch(home, None, None, HOME_ONLY_CONFIDENCE, "no place named; the source's home municipality")
        return GeoMatch(None, None, None, 0.0, "no place named")
    contexts = (anchors(mentions), neighbours(mentions))
    choices = [c for c in (choose(m, contexts, home) for m in mentions) if c is not None]
    if not choices:
        return answer([], home)
    best, agrees = pick(choices)
    confidence = best.confidence
    if agrees:
        confidence = max(confidence, min(0.97, confidence + 0.1))
    settlement = best.place.name if best.place.kind == "settlement" else None
    return GeoMatch(best.place.municipality, settlement, best.mention.text, round(min(confidence, 0.99), 3),
                    describe(best, agrees))
