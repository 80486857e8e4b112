"""Resolving the review queue: confirm with corrections (→ labels), attach, dismiss."""
from __future__ import annotations

import pytest
import sqlalchemy as sa

from routing.errors import RoutingError
from routing.review import pending_reviews, resolve_review
from routing.stage import route_items
from storage.tables import Label, Ticket, TicketItem
from tests.routing.conftest import NOW, add_pair

OPS = "ops:anna"


def queue(s, policy, *specs):
    route_items(s, [add_pair(s, **spec) for spec in specs], now=NOW, policy=policy)
    return pending_reviews(s)


def labels(s):
    return s.execute(sa.select(Label.field, Label.value, Label.previous).order_by(Label.id)).all()


def test_confirm_with_correction_creates_routed_ticket(sessions, policy):
    with sessions() as s, s.begin():
        [decision] = queue(s, policy, {"text": "Нет воды", "municipality": None})
        ticket = resolve_review(s, decision, "create", actor=OPS, reason="это Ялта", now=NOW, policy=policy,
                                corrections={"municipality": "городской округ Ялта"})
        assert ticket.agency == "Администрация городского округа Ялта Республики Крым"
        assert (decision.reviewed, decision.ticket_id) == (True, ticket.id)
        assert labels(s) == [("is_complaint", "True", "True"), ("municipality", "городской округ Ялта", None)]
        assert pending_reviews(s) == []
        with pytest.raises(RoutingError, match="not an open review"):
            resolve_review(s, decision, "ignore", actor=OPS, reason="x", now=NOW, policy=policy)


def test_dismiss_and_attach(sessions, policy):
    with sessions() as s, s.begin():
        [created] = route_items(s, [add_pair(s, "Прорыв трубы на Ленина")], now=NOW, policy=policy)
        first, second = queue(s, policy, {"text": "ну и погодка", "complaint_proba": 0.6},
                              {"text": "и у соседей течёт", "geo_confidence": 0.1})
        assert resolve_review(s, first, "ignore", actor=OPS, reason="не жалоба", now=NOW, policy=policy) is None
        ticket = resolve_review(s, second, "attach", ticket_id=created.ticket_id, actor=OPS, reason="та же авария",
                                now=NOW, policy=policy)
        assert ticket.id == created.ticket_id
        assert s.get(TicketItem, second.item_pk).ticket_id == created.ticket_id
        assert labels(s) == [("is_complaint", "False", "True"), ("is_complaint", "True", "True")]
        with pytest.raises(RoutingError, match="cannot correct"):
            resolve_review(s, queue(s, policy, {"municipality": None})[0], "create", actor=OPS, reason="x",
                           now=NOW, policy=policy, corrections={"agency": "x"})


def test_unroutable_item_needs_an_agency(sessions, policy):
    with sessions() as s, s.begin():
        [decision] = queue(s, policy, {"topic_group": None, "municipality": None})
        with pytest.raises(RoutingError, match="name the agency"):
            resolve_review(s, decision, "create", actor=OPS, reason="x", now=NOW, policy=policy)
    with sessions() as s, s.begin():
        [decision] = pending_reviews(s)
        ticket = resolve_review(s, decision, "create", agency="МЧС РК", actor=OPS, reason="пожар", now=NOW,
                                policy=policy)
        assert (ticket.agency, ticket.rule) == ("Министерство чрезвычайных ситуаций Республики Крым", "ops")
        assert s.scalar(sa.select(sa.func.count()).select_from(Ticket)) == 1
