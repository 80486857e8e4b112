"""Status lifecycle, reassignment into labels, merge and split; every change is an event."""
from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from routing.errors import InvalidTransition, RoutingError
from routing.lifecycle import change_status, merge, reassign, split
from routing.stage import route_items
from storage.tables import Label, Ticket, TicketEvent, TicketItem
from tests.routing.conftest import NOW, add_pair

OPS = "ops:anna"


def make_ticket(s, policy, *texts, post="p1", **spec):
    """A ticket with one item per text (items join via the thread rule)."""
    pairs = [add_pair(s, texts[0], item_id=post, **spec)]
    pairs += [add_pair(s, t, kind="comment", parent_id=post, **spec) for t in texts[1:]]
    decisions = route_items(s, pairs, now=NOW, policy=policy)
    return s.get(Ticket, decisions[0].ticket_id), [p[0].id for p in pairs]


def events(s, ticket):
    return s.execute(sa.select(TicketEvent.kind, TicketEvent.old_value, TicketEvent.new_value, TicketEvent.actor)
                     .where(TicketEvent.ticket_id == ticket.id).order_by(TicketEvent.id)).all()


def test_full_lifecycle_with_reopen(sessions, policy):
    with sessions() as s, s.begin():
        ticket, _ = make_ticket(s, policy, "Нет воды")
        for status in ("sent", "in_progress", "answered"):
            change_status(s, ticket, status, actor=OPS, reason="step", now=NOW, policy=policy)
        change_status(s, ticket, "closed", actor=OPS, reason="ответ принят", closing_reason="satisfied", now=NOW)
        assert (ticket.closing_reason, ticket.closed_at) == ("satisfied", NOW)
        later = NOW + timedelta(days=2)
        change_status(s, ticket, "in_progress", actor=OPS, reason="автор пишет, что воды снова нет", now=later,
                      policy=policy)
        assert (ticket.status, ticket.closing_reason, ticket.closed_at) == ("in_progress", None, None)
        assert ticket.due_at == later + timedelta(days=1)  # Wednesday 10:00 → Thursday 10:00 local (9 working h)
        assert [e[:3] for e in events(s, ticket)][1:] == [
            ("status", "new", "sent"), ("status", "sent", "in_progress"), ("status", "in_progress", "answered"),
            ("status", "answered", "closed"), ("reopen", "closed", "in_progress")]


@pytest.mark.parametrize("path, bad, kwargs, message", [
    ((), "closed", {}, "new → closed not allowed"),
    ((), "answered", {}, "new → answered not allowed"),
    (("sent", "answered"), "closed", {}, "closing needs a reason"),
    (("sent", "answered"), "closed", {"closing_reason": "happy"}, "closing needs a reason"),
    (("sent",), "sent", {}, "sent → sent not allowed"),
])
def test_invalid_transitions_raise(sessions, policy, path, bad, kwargs, message):
    with sessions() as s, s.begin():
        ticket, _ = make_ticket(s, policy, "Нет воды")
        for status in path:
            change_status(s, ticket, status, actor=OPS, reason="step", now=NOW)
        with pytest.raises(InvalidTransition, match=message):
            change_status(s, ticket, bad, actor=OPS, reason="x", now=NOW, **kwargs)


def test_change_needs_actor_and_reason(sessions, policy):
    with sessions() as s, s.begin():
        ticket, _ = make_ticket(s, policy, "Нет воды")
        with pytest.raises(RoutingError, match="actor and a reason"):
            change_status(s, ticket, "sent", actor=OPS, reason=" ", now=NOW)


def test_reassign_writes_events_and_labels_and_reroutes(sessions, policy):
    with sessions() as s, s.begin():
        ticket, pks = make_ticket(s, policy, "Нет воды в Керчи", "И у нас тоже")
        change_status(s, ticket, "sent", actor="system:delivery", reason="delivered", now=NOW)
        reassign(s, ticket, topic="Отсутствие холодной воды", actor=OPS, reason="это водоканал", now=NOW,
                 policy=policy)
        assert (ticket.agency, ticket.status) == ("ГУП РК «Вода Крыма»", "new")  # re-routed, to be delivered again
        reassign(s, ticket, agency="Минздрав РК", importance="high", actor=OPS, reason="ошибка", now=NOW,
                 policy=policy)
        assert ticket.agency == "Министерство здравоохранения Республики Крым"
        assert ticket.due_at == ticket.created_at + timedelta(hours=4)
        labels = s.execute(sa.select(Label.item_pk, Label.field, Label.value, Label.previous, Label.actor)
                           .order_by(Label.id)).all()
        kerch = "Администрация городского округа Керчь Республики Крым"  # what routing chose for the items
        assert labels == [(pks[0], "topic", "Отсутствие холодной воды", None, OPS),
                          (pks[1], "topic", "Отсутствие холодной воды", None, OPS),
                          (pks[0], "agency", "Министерство здравоохранения Республики Крым", kerch, OPS),
                          (pks[1], "agency", "Министерство здравоохранения Республики Крым", kerch, OPS),
                          (pks[0], "importance", "high", "normal", OPS), (pks[1], "importance", "high", "normal", OPS)]
        kinds = [e[:3] for e in events(s, ticket) if e[0] == "reassign"]
        assert kinds[1][2] == "ГУП РК «Вода Крыма»"  # the re-route is recorded too
        with pytest.raises(RoutingError, match="unknown agency"):
            reassign(s, ticket, agency="Минмагии", actor=OPS, reason="x", now=NOW, policy=policy)


def test_merge_moves_items_and_closes_source(sessions, policy):
    with sessions() as s, s.begin():
        a, a_items = make_ticket(s, policy, "Нет воды на Ленина")
        b, b_items = make_ticket(s, policy, "Прорвало трубу во дворе", "Вода течёт по улице", post="p2",
                                importance="high")
        merge(s, b, a, actor=OPS, reason="одна авария", now=NOW)
        assert (b.status, b.closing_reason, b.merged_into) == ("closed", "merged", a.id)
        assert a.importance == "high" and a.due_at == b.due_at
        owners = set(s.scalars(sa.select(TicketItem.ticket_id).where(TicketItem.item_pk.in_(a_items + b_items))))
        assert owners == {a.id}
        with pytest.raises(InvalidTransition, match="merged into"):
            merge(s, b, a, actor=OPS, reason="again", now=NOW)
        with pytest.raises(InvalidTransition, match="itself"):
            merge(s, a, a, actor=OPS, reason="x", now=NOW)
        # a new comment under b's post now follows the merge to a
        [d] = route_items(s, [add_pair(s, "ещё течёт", kind="comment", parent_id="p2", source="vk:wall:-1")],
                          now=NOW, policy=policy)
        assert d.outcome == "attach"


def test_split_moves_chosen_items_to_a_new_ticket(sessions, policy):
    with sessions() as s, s.begin():
        ticket, pks = make_ticket(s, policy, "Нет воды", "И света нет", "И газа")
        new = split(s, ticket, [pks[2]], actor=OPS, reason="газ — другое", now=NOW, policy=policy)
        assert new.id != ticket.id and new.agency == ticket.agency and new.status == "new"
        assert s.get(TicketItem, pks[2]).ticket_id == new.id
        assert s.get(TicketItem, pks[0]).ticket_id == ticket.id
        assert [e[0] for e in events(s, new)] == ["split"]
        with pytest.raises(RoutingError, match="some, not all"):
            split(s, ticket, pks[:2], actor=OPS, reason="x", now=NOW, policy=policy)
        with pytest.raises(RoutingError, match="some, not all"):
            split(s, ticket, [999999], actor=OPS, reason="x", now=NOW, policy=policy)

