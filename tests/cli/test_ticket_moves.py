"""Tickets: reopen only closed ones, no reassigning a closed one, merge / split / detach; parked items listed."""
from __future__ import annotations

import sqlalchemy as sa

from storage.tables import Item, Ticket, TicketEvent, TicketItem
from tests.cli.conftest import ROAD_TEXT, Cli, route, seed

OTHER_ROAD = "На улице Кирова в Ялте опять яма на дороге, колёса бьют, сделайте ремонт дороги"


def kinds(sessions, ticket_id: int) -> list[str]:
    with sessions() as s:
        return s.scalars(sa.select(TicketEvent.kind).where(TicketEvent.ticket_id == ticket_id)
                         .order_by(TicketEvent.id)).all()


def closed_ticket(cli, sessions) -> int:
    seed(sessions, ROAD_TEXT)
    [decision] = route(sessions)
    for status in ("in_progress", "answered"):
        cli("tickets", "status", str(decision.ticket_id), status, "--reason", "step")
    cli("tickets", "close", str(decision.ticket_id), "--closing", "neutral", "--reason", "answered")
    return decision.ticket_id


def test_reopen_refuses_an_open_ticket(lite):
    url, sessions = lite
    cli = Cli(url)
    seed(sessions, ROAD_TEXT)
    [decision] = route(sessions)
    bad = cli("tickets", "reopen", str(decision.ticket_id), "--reason", "x", ok=False)
    assert bad.exit_code == 2 and bad.stdout == ""
    assert bad.stderr.strip() == f"error: ticket #{decision.ticket_id} is new, not closed: only closed tickets reopen"
    assert kinds(sessions, decision.ticket_id) == ["create"]


def test_reassign_of_a_closed_ticket_is_refused(lite):
    url, sessions = lite
    cli = Cli(url)
    ticket_id = closed_ticket(cli, sessions)
    bad = cli("reassign", "ticket", str(ticket_id), "--agency", "Минздрав РК", "--reason", "x", ok=False)
    assert bad.exit_code == 2 and "is closed: reopen it first" in bad.stderr
    assert kinds(sessions, ticket_id)[-1] == "status"
    cli("tickets", "reopen", str(ticket_id), "--reason", "the hole is back")
    assert kinds(sessions, ticket_id)[-1] == "reopen"
    cli("reassign", "ticket", str(ticket_id), "--agency", "Минздрав РК", "--reason", "now it can move")


def test_merge_split_and_detach(db):
    url, sessions = db
    cli = Cli(url)
    seed(sessions, ROAD_TEXT)
    seed(sessions, "В поликлинике Алушты очереди к врачу по три часа", topic_group="Здравоохранение",
         municipality="городской округ Алушта")
    road, health = [d.ticket_id for d in route(sessions)]
    out = cli.json("tickets", "merge", str(health), str(road), "--reason", "one incident after all")
    assert out == {"id": health, "into": road, "items": 1}
    with sessions() as s:
        assert (s.get(Ticket, health).status, s.get(Ticket, health).merged_into) == ("closed", road)
        pks = s.scalars(sa.select(TicketItem.item_pk).where(TicketItem.ticket_id == road).order_by(TicketItem.item_pk)
                        ).all()
    assert len(pks) == 2
    split = cli.json("tickets", "split", str(road), "--items", str(pks[1]), "--reason", "not the same after all")
    assert split["items"] == [pks[1]] and split["new_ticket"] not in (road, health)
    cli.json("tickets", "merge", str(split["new_ticket"]), str(road), "--reason", "the same again")
    detached = cli.json("tickets", "detach", str(road), str(pks[1]), "--reason", "wrongly attached")
    assert (detached["to"], detached["new_ticket"]) == ("review", None)
    assert [e["id"] for e in cli.json("review", "list") if e["kind"] == "item"] == [pks[1]]
    with sessions() as s:
        actors = s.scalars(sa.select(TicketEvent.actor).where(TicketEvent.kind.in_(("merge", "split", "detach"))))
        assert set(actors) == {"tester"}
    bad = cli("tickets", "split", str(road), "--items", "x,y", "--reason", "r", ok=False)
    assert bad.exit_code == 2 and "item ids separated by commas" in bad.stderr


def test_failed_and_retry_list_and_requeue_parked_items(lite):
    url, sessions = lite
    cli = Cli(url)
    pk = seed(sessions, ROAD_TEXT)
    with sessions.begin() as s:
        item = s.get(Item, pk)
        item.stage, item.error = "failed", "route: ValueError: broken"
    [row] = cli.json("run", "failed")
    assert (row["id"], row["error"]) == (pk, "route: ValueError: broken")
    assert cli.json("run", "retry", "--items", str(pk)) == {"retried": 1}
    with sessions() as s:
        assert (s.get(Item, pk).stage, s.get(Item, pk).error) == ("route", None)  # its analysis is there
    assert cli.json("run", "failed") == []
