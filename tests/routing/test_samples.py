"""Tickets keep the texts of their first items for incident matching, through attach, merge and split."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from routing.incidents import TEXTS_PER_TICKET, add_sample, recent_texts
from routing.lifecycle import merge, split
from storage.tables import Item, Ticket, TicketItem

NOW = datetime(2026, 11, 20, 9, tzinfo=timezone.utc)


def ticket_with(s, texts, start=0, municipality="городской округ Ялта"):
    t = Ticket(agency="A", status="new", municipality=municipality, created_at=NOW, updated_at=NOW)
    s.add(t)
    s.flush()
    for n, text in enumerate(texts):
        item = Item(platform="vk", source="vk:wall:-1", item_id=f"{start + n}", published_at=NOW, text=text,
                    text_hash=str(start + n), stage="done")
        s.add(item)
        s.flush()
        s.add(TicketItem(item_pk=item.id, ticket_id=t.id, via="create", added_at=NOW + timedelta(minutes=start + n)))
        add_sample(t, text)
    s.flush()
    return t


def test_samples_through_merge_and_split(sessions):
    with sessions.begin() as s:
        a = ticket_with(s, [f"a{i}" for i in range(7)], start=10)
        b = ticket_with(s, ["b0", "b1"], start=0)
        assert a.sample_texts == [f"a{i}" for i in range(TEXTS_PER_TICKET)]
        merge(s, b, a, actor="ops", reason="same pipe", now=NOW)
        assert a.sample_texts == ["b0", "b1", "a0", "a1", "a2"]  # b's items are older
        moved = [ti.item_pk for ti in s.query(TicketItem).filter(TicketItem.ticket_id == a.id)
                 .order_by(TicketItem.added_at).limit(2)]
        new = split(s, a, moved, actor="ops", reason="two problems", now=NOW)
        assert new.sample_texts == ["b0", "b1"] and a.sample_texts == ["a0", "a1", "a2", "a3", "a4"]
        found = recent_texts(s, NOW - timedelta(days=1), "городской округ Ялта")
        assert {tid: texts for tid, (_, texts) in found.items()} == {a.id: a.sample_texts, new.id: ["b0", "b1"]}
        other = ticket_with(s, ["c0"], start=50, municipality="городской округ Керчь")
        assert other.id not in recent_texts(s, NOW - timedelta(days=1), "городской округ Ялта")
