"""Lifecycle guards and item moves ops ask for: reopen only closed tickets, no reassigning closed ones, detach."""
from __future__ import annotations

import pytest
import sqlalchemy as sa

from routing.errors import InvalidTransition, RoutingError
from routing.lifecycle import change_status, detach, reassign, reopen
from storage.tables import Label, TicketItem
from tests.routing.conftest import NOW
from tests.routing.test_lifecycle import OPS, events, make_ticket


def close(s, ticket, policy):
    for status in ("sent", "in_progress", "answered"):
        change_status(s, ticket, status, actor=OPS, reason="step", now=NOW, policy=policy)
    change_status(s, ticket, "closed", actor=OPS, reason="ответ принят", closing_reason="satisfied", now=NOW)


@pytest.mark.parametrize("path", [(), ("sent",), ("sent", "in_progress"), ("sent", "answered")])
def test_reopen_refuses_a_ticket_that_is_not_closed(sessions, policy, path):
    with sessions() as s, s.begin():
        ticket, _ = make_ticket(s, policy, "Нет воды")
        for status in path:
            change_status(s, ticket, status, actor=OPS, reason="step", now=NOW, policy=policy)
        with pytest.raises(InvalidTransition, match=f"is {ticket.status}, not closed"):
            reopen(s, ticket, actor=OPS, reason="again", now=NOW, policy=policy)
        assert [e[0] for e in events(s, ticket)].count("reopen") == 0


def test_reopen_of_a_closed_ticket_is_a_reopen_event(sessions, policy):
    with sessions() as s, s.begin():
        ticket, _ = make_ticket(s, policy, "Нет воды")
        close(s, ticket, policy)
        reopen(s, ticket, actor=OPS, reason="воды снова нет", now=NOW, policy=policy)
        assert ticket.status == "in_progress" and events(s, ticket)[-1][:3] == ("reopen", "closed", "in_progress")


def test_reassign_of_a_closed_ticket_is_refused_and_delivers_nothing(sessions, policy):
    with sessions() as s, s.begin():
        ticket, _ = make_ticket(s, policy, "Нет воды")
        close(s, ticket, policy)
        before = events(s, ticket)
        with pytest.raises(InvalidTransition, match=r"is closed: reopen it first \(tsur tickets reopen"):
            reassign(s, ticket, agency="Минздрав РК", actor=OPS, reason="x", now=NOW, policy=policy)
        assert events(s, ticket) == before and ticket.status == "closed"
        assert s.scalar(sa.select(sa.func.count()).select_from(Label)) == 0


def test_detach_to_review_puts_the_item_back_in_the_queue(sessions, policy):
    from tsur.queries import review_queue

    with sessions() as s, s.begin():
        ticket, (post, wrong, other) = make_ticket(s, policy, "Нет воды", "И во дворе мусор", "Да, воды нет")
        assert detach(s, ticket, wrong, to="review", actor=OPS, reason="про мусор, не про воду", now=NOW) is None
        assert s.get(TicketItem, wrong) is None and s.get(TicketItem, other).ticket_id == ticket.id
        [entry] = review_queue(s, now=NOW)
        assert (entry.kind, entry.id) == ("item", wrong) and "detached from ticket" in entry.reason
        assert events(s, ticket)[-1] == ("detach", str(wrong), "review", OPS)
        with pytest.raises(RoutingError, match="not in ticket"):
            detach(s, ticket, wrong, to="review", actor=OPS, reason="again", now=NOW)


def test_detach_to_ticket_and_the_only_item(sessions, policy):
    with sessions() as s, s.begin():
        ticket, (post, wrong) = make_ticket(s, policy, "Нет воды", "И во дворе мусор")
        new = detach(s, ticket, wrong, to="ticket", actor=OPS, reason="другая проблема", now=NOW, policy=policy)
        assert s.get(TicketItem, wrong).ticket_id == new.id and new.id != ticket.id
        with pytest.raises(RoutingError, match="only item"):
            detach(s, ticket, post, to="review", actor=OPS, reason="x", now=NOW)
