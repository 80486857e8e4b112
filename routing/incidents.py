"""Incidents: a new item joins an open ticket about the same problem instead of opening a new one.

Same thread (a comment under a post already in a ticket), a repost (same text hash, or nearly the
same text, e.g. VK ↔ Telegram) or the same topic group and place within the window with similar text.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache

import sqlalchemy as sa
from sqlalchemy.orm import Session

from routing.policy import Policy
from storage.tables import AnalysisRow, Item, Ticket, TicketItem

OPEN = ("new", "sent", "in_progress", "answered")
WORD = re.compile(r"[^\W\d_]{3,}", re.UNICODE)
TEXTS_PER_TICKET = 5
THREAD, REPOST, SAME_PROBLEM = "incident:thread", "incident:repost", "incident:same-problem"


@dataclass(frozen=True)
class Match:
    """An open ticket the item belongs to, the incident rule and the text similarity."""

    ticket: Ticket
    rule: str
    similarity: float


@lru_cache(maxsize=50_000)
def shingles(text: str | None) -> frozenset[str]:
    """Words of 3+ letters cut to 5 characters (a cheap stem for Russian inflection)."""
    return frozenset(w[:5] for w in WORD.findall((text or "").casefold()))


def similarity(a: frozenset[str], b: frozenset[str]) -> float:
    """Jaccard similarity of two shingle sets."""
    return len(a & b) / len(a | b) if a and b else 0.0


def live(session: Session, ticket: Ticket | None) -> Ticket | None:
    """Follow merges to the ticket that lives on; None if it is closed."""
    seen = set()
    while ticket is not None and ticket.merged_into is not None and ticket.id not in seen:
        seen.add(ticket.id)
        ticket = session.get(Ticket, ticket.merged_into)
    return ticket if ticket is not None and ticket.status in OPEN else None


def ticket_of_item(session: Session, item_pk: int) -> Ticket | None:
    """The ticket an item belongs to, if any."""
    link = session.get(TicketItem, item_pk)
    return session.get(Ticket, link.ticket_id) if link else None


def by_thread(session: Session, item: Item) -> Match | None:
    """A comment joins the ticket of its post."""
    if not item.parent_id:
        return None
    parent = session.scalar(sa.select(Item).where(Item.source == item.source, Item.item_id == item.parent_id,
                                                  Item.platform == item.platform))
    ticket = live(session, ticket_of_item(session, parent.id)) if parent else None
    return Match(ticket, THREAD, 1.0) if ticket else None


def by_hash(session: Session, item: Item, since: datetime) -> Match | None:
    """An exact repost (same normalised text hash) joins the ticket of the original."""
    query = (sa.select(TicketItem.ticket_id).join(Item, Item.id == TicketItem.item_pk)
             .where(Item.text_hash == item.text_hash, Item.id != item.id, TicketItem.added_at >= since)
             .order_by(TicketItem.added_at.desc()).limit(5))
    for ticket_id in session.scalars(query):
        ticket = live(session, session.get(Ticket, ticket_id))
        if ticket:
            return Match(ticket, REPOST, 1.0)
    return None


def add_sample(ticket: Ticket, text: str | None) -> None:
    """Keep the text of one of the ticket's first items for matching (items are added in time order)."""
    samples = list(ticket.sample_texts or [])
    if text and len(samples) < TEXTS_PER_TICKET:
        ticket.sample_texts = [*samples, text]


def refresh_samples(session: Session, ticket: Ticket) -> None:
    """Recompute the sample texts after items moved between tickets (merge, split)."""
    session.flush()
    texts = session.scalars(sa.select(Item.text).join(TicketItem, TicketItem.item_pk == Item.id)
                            .where(TicketItem.ticket_id == ticket.id, Item.text.is_not(None))
                            .order_by(TicketItem.added_at, TicketItem.item_pk).limit(TEXTS_PER_TICKET))
    ticket.sample_texts = list(texts)


def recent_texts(session: Session, since: datetime, municipality: str | None = None) -> dict[int, tuple[Ticket, list[str]]]:
    """Open, unmerged tickets that got an item since `since`, each with the texts of its first items.

    With `municipality`, only tickets that could match it: of that municipality or of no known place
    (by_text never joins an item to a ticket about another place). The texts are kept on the ticket
    (`sample_texts`), so the cost does not grow with the number of items an incident gathers.
    """
    query = (sa.select(Ticket)
             .where(Ticket.status.in_(OPEN), Ticket.merged_into.is_(None),
                    Ticket.id.in_(sa.select(TicketItem.ticket_id).where(TicketItem.added_at >= since)))
             .order_by(Ticket.id))
    if municipality:
        query = query.where(sa.or_(Ticket.municipality == municipality, Ticket.municipality.is_(None)))
    return {t.id: (t, list(t.sample_texts or [])) for t in session.scalars(query)}


def same_place(ticket: Ticket, analysis: AnalysisRow) -> bool:
    """Same topic group and municipality; settlements must agree when both are known."""
    if ticket.topic_group != analysis.topic_group or ticket.municipality != analysis.municipality:
        return False
    return not (ticket.settlement and analysis.settlement) or ticket.settlement == analysis.settlement


def other_place(ticket: Ticket, analysis: AnalysisRow) -> bool:
    """Both places known and different: the same template text about another town is another incident."""
    return bool(ticket.municipality and analysis.municipality and ticket.municipality != analysis.municipality)


def by_text(session: Session, item: Item, analysis: AnalysisRow, policy: Policy, since: datetime) -> Match | None:
    """The most similar recent open ticket: near-identical text unless places differ, same place otherwise."""
    words, best = shingles(item.text), None
    for ticket, texts in recent_texts(session, since, analysis.municipality).values():
        score = max((similarity(words, shingles(t)) for t in texts), default=0.0)
        if score >= policy.incident.repost_similarity and not other_place(ticket, analysis):
            rule = REPOST
        elif score >= policy.incident.similarity and analysis.municipality and same_place(ticket, analysis):
            rule = SAME_PROBLEM
        else:
            continue
        if best is None or score > best.similarity:
            best = Match(ticket, rule, round(score, 4))
    return best


def linked_hashes(session: Session, hashes: set[str], since: datetime) -> set[str]:
    """Those of `hashes` that items linked to a ticket since `since` have (one query for a batch)."""
    if not hashes:
        return set()
    return set(session.scalars(sa.select(Item.text_hash).distinct().join(TicketItem, TicketItem.item_pk == Item.id)
                               .where(Item.text_hash.in_(hashes), TicketItem.added_at >= since)))


def window_start(policy: Policy, now: datetime) -> datetime:
    """The oldest last-item time of a ticket an item may still join."""
    return now - timedelta(hours=policy.incident.window_hours)


def find_incident(session: Session, item: Item, analysis: AnalysisRow, policy: Policy, now: datetime,
                  hashes: set[str] | None = None) -> Match | None:
    """The open ticket this item should join, or None to open a new one.

    `hashes` (linked_hashes of a batch, kept up to date by the caller) lets the repost lookup skip its query
    when no linked item has this item's text hash."""
    since = window_start(policy, now)
    return (by_thread(session, item) or _by_hash_if(session, item, since, hashes)
            or by_text(session, item, analysis, policy, since))


def find_source_incident(session: Session, item: Item, analysis: AnalysisRow, policy: Policy,
                         now: datetime, hashes: set[str] | None = None) -> Match | None:
    """The open ticket of the post this item comments on or exactly reposts (same text hash): the incident,
    not the item, says what and where. No similar-text search here: for the items that alone would go to
    review (over half of them) it would cost as much as routing every confident item, for few joins."""
    return by_thread(session, item) or _by_hash_if(session, item, window_start(policy, now), hashes)


def _by_hash_if(session: Session, item: Item, since: datetime, hashes: set[str] | None) -> Match | None:
    if hashes is not None and item.text_hash not in hashes:
        return None
    return by_hash(session, item, since)
