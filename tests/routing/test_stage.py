"""route_items: create, attach (incidents), review, ignore; decisions keep rule and scores."""
from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from routing.stage import route_items
from storage.tables import Decision, Item, Outbox, Ticket, TicketEvent, TicketItem
from tests.routing.conftest import NOW, add_pair

KERCH, YALTA = "городской округ Керчь", "городской округ Ялта"


def route(sessions, policy, *specs, now=NOW):
    """Store and route items in one transaction; returns the decisions."""
    with sessions() as s, s.begin():
        pairs = [add_pair(s, **spec) for spec in specs]
        return route_items(s, pairs, now=now, policy=policy)


@pytest.mark.parametrize("spec, outcome, rule, reason", [
    ({"is_complaint": False, "complaint_proba": 0.1}, "ignore", "not-complaint", "complaint_proba 0.10"),
    ({"complaint_proba": 0.55}, "review", "review:confidence", "complaint_proba 0.55 < 0.65"),
    ({"municipality": None}, "review", "review:confidence", "no place found"),
    ({"geo_confidence": 0.2}, "review", "review:confidence", "geo_confidence 0.20 < 0.5"),
    ({"topic_group": "Здравоохранение", "topic_proba": 0.45}, "review", "review:confidence",
     "topic_proba 0.45 < 0.5 for Здравоохранение"),
    ({"topic": "Отсутствие электричества", "topic_group": "Дороги"}, "review", "review:confidence",
     "topic 'Отсутствие электричества' is in group 'ЖКХ'"),
    ({"reasons": ["conflict: source home Ялта vs text Керчь"]}, "review", "review:confidence", "conflict: source"),
    ({"is_complaint": False, "complaint_proba": 0.2, "importance": "high"}, "review", "review:confidence",
     "importance high but complaint_proba 0.20"),
    ({"municipality": "Севастополь"}, "review", "review:triage", "rule sevastopol"),
    ({}, "create", "zhkh-local", "rule zhkh-local"),
])
def test_decision_outcomes(sessions, policy, spec, outcome, rule, reason):
    [decision] = route(sessions, policy, spec)
    assert (decision.outcome, decision.rule) == (outcome, rule)
    assert reason in decision.reason
    with sessions() as s:
        row = s.scalar(sa.select(Decision))
        item = s.get(Item, row.item_pk)
        assert (row.outcome, row.rule, row.rules_version) == (outcome, rule, policy.version)
        assert set(row.scores) >= {"complaint_proba", "topic_proba", "geo_confidence"}
        assert item.stage == "done"
        assert (row.ticket_id is not None) == (outcome == "create")


def test_created_ticket_has_sla_event_and_no_outbox_without_channel(sessions, policy):
    [decision] = route(sessions, policy, {"importance": "high"})
    with sessions() as s:
        ticket = s.get(Ticket, decision.ticket_id)
        assert (ticket.agency, ticket.status, ticket.importance) == (
            "Администрация городского округа Керчь Республики Крым", "new", "high")
        assert ticket.due_at == NOW + timedelta(hours=4)
        assert s.scalar(sa.select(TicketEvent.kind).where(TicketEvent.ticket_id == ticket.id)) == "create"
        assert s.scalar(sa.select(sa.func.count()).select_from(Outbox)) == 0


def test_same_problem_same_place_joins_one_ticket(sessions, policy):
    first, second, other_place, other_text = route(
        sessions, policy,
        {"text": "На улице Ленина в Керчи нет воды третий день, управляющая компания молчит"},
        {"text": "Третий день нет воды на Ленина, Керчь, управляющая компания не отвечает", "importance": "high"},
        {"text": "На улице Ленина в Ялте нет воды третий день, управляющая компания молчит", "municipality": YALTA},
        {"text": "Во дворе на Ленина не убирают мусор, контейнеры переполнены"})
    assert [d.outcome for d in (first, second, other_place, other_text)] == ["create", "attach", "create", "create"]
    assert second.ticket_id == first.ticket_id and second.rule == "incident:same-problem"
    assert second.scores["similarity"] >= policy.incident.similarity
    with sessions() as s:
        ticket = s.get(Ticket, first.ticket_id)
        assert ticket.importance == "high"  # escalated by the high-importance item
        kinds = s.scalars(sa.select(TicketEvent.kind).where(TicketEvent.ticket_id == ticket.id)
                          .order_by(TicketEvent.id)).all()
        assert kinds == ["create", "attach", "importance"]


def test_window_limits_incidents(sessions, policy):
    text = "На улице Ленина в Керчи нет воды третий день"
    [first] = route(sessions, policy, {"text": text})
    [late] = route(sessions, policy, {"text": text + "!", "item_id": "later"}, now=NOW + timedelta(days=4))
    assert late.outcome == "create" and late.ticket_id != first.ticket_id


def test_comment_joins_its_post_and_repost_joins_original(sessions, policy):
    [post] = route(sessions, policy, {"text": "Яма на дороге у школы номер 5", "topic_group": "Дороги",
                                      "item_id": "100"})
    [comment, repost] = route(
        sessions, policy,
        {"text": "Да, там уже две машины пробили колёса!", "kind": "comment", "parent_id": "100",
         "topic_group": "Дороги"},
        {"text": "Яма на дороге у школы номер 5", "platform": "tg", "source": "tg:channel:kerch",
         "municipality": None, "topic_group": "Дороги", "geo_confidence": 0.0, "complaint_proba": 0.9})
    assert (comment.outcome, comment.rule, comment.ticket_id) == ("attach", "incident:thread", post.ticket_id)
    # a repost with no place found goes to review: reviews never join tickets automatically
    assert repost.outcome == "review"
    [repost2] = route(sessions, policy, {"text": "Яма на дороге у школы номер 5", "platform": "tg",
                                         "source": "tg:channel:kerch2", "topic_group": "Дороги"})
    assert (repost2.outcome, repost2.rule, repost2.ticket_id) == ("attach", "incident:repost", post.ticket_id)
    with sessions() as s:
        assert s.scalar(sa.select(sa.func.count()).select_from(TicketItem)
                        .where(TicketItem.ticket_id == post.ticket_id)) == 3


def test_closed_ticket_does_not_collect_items(sessions, policy):
    [first] = route(sessions, policy, {"text": "Нет света на улице Гагарина в Керчи"})
    with sessions() as s, s.begin():
        s.get(Ticket, first.ticket_id).status = "closed"
    [again] = route(sessions, policy, {"text": "Нет света на улице Гагарина в Керчи"})
    assert again.outcome == "create" and again.ticket_id != first.ticket_id


def test_batch_returns_one_decision_per_pair_in_order(sessions, policy):
    texts = ["Прорвало трубу в подвале", "Спасибо за концерт", "Не вывозят мусор неделю",
             "Красивый закат сегодня", "Сломан светофор на перекрёстке", "Поздравляем учителей"]
    decisions = route(sessions, policy, *[{"text": text, "is_complaint": n % 2 == 0,
                                           "complaint_proba": 0.9 if n % 2 == 0 else 0.1}
                                          for n, text in enumerate(texts)])
    assert [d.outcome for d in decisions] == ["create", "ignore"] * 3
    with sessions() as s:
        assert s.scalar(sa.select(sa.func.count()).select_from(Decision)) == 6
