"""Tickets: list, overdue, status moves, close with a closing reason, reopen; stats per agency/municipality."""
from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from storage.tables import Ticket, TicketEvent, utcnow
from tests.cli.conftest import ROAD_TEXT, Cli, route, seed


def _tickets(sessions):
    seed(sessions, ROAD_TEXT)
    seed(sessions, "В поликлинике Алушты очереди к врачу по три часа", topic_group="Здравоохранение",
         municipality="городской округ Алушта", importance="high")
    decisions = route(sessions)
    return [d.ticket_id for d in decisions]


def test_list_overdue_close_reopen(lite):
    url, sessions = lite
    cli = Cli(url)
    road, health = _tickets(sessions)
    assert [t["id"] for t in cli.json("tickets", "list")] == [health, road]  # newest first, then by id
    assert [t["id"] for t in cli.json("tickets", "list", "--agency", "здравоохр")] == [health]
    assert [t["id"] for t in cli.json("tickets", "list", "--municipality", "ялта")] == [road]
    with sessions.begin() as s:
        s.get(Ticket, road).due_at = utcnow() - timedelta(hours=1)
        s.get(Ticket, health).due_at = utcnow() + timedelta(hours=1)
    assert [t["id"] for t in cli.json("tickets", "overdue")] == [road]

    bad = cli("tickets", "close", str(road), "--closing", "satisfied", "--reason", "done", ok=False)
    assert bad.exit_code == 2 and bad.stderr.startswith("error: ticket #") and "not allowed" in bad.stderr
    cli("tickets", "status", str(road), "answered", "--reason", "agency replied", ok=False)  # new → answered refused
    cli("tickets", "status", str(road), "in_progress", "--reason", "agency took it")
    cli("tickets", "status", str(road), "answered", "--reason", "agency replied")
    out = cli("tickets", "close", str(road), "--closing", "satisfied", "--reason", "hole patched").stdout
    assert "answered → closed (satisfied)" in out
    assert cli.json("tickets", "overdue") == []
    assert [t["id"] for t in cli.json("tickets", "list", "--status", "closed")] == [road]
    assert [t["id"] for t in cli.json("tickets", "list", "--open")] == [health]
    cli("tickets", "reopen", str(road), "--reason", "the hole is back")
    with sessions() as s:
        ticket = s.get(Ticket, road)
        assert (ticket.status, ticket.closing_reason) == ("in_progress", None)
        kinds = s.scalars(sa.select(TicketEvent.kind).where(TicketEvent.ticket_id == road)
                          .order_by(TicketEvent.id)).all()
        assert kinds == ["create", "status", "status", "status", "reopen"]
    wrong = cli("tickets", "close", str(road), "--closing", "happy", "--reason", "x", ok=False)
    assert wrong.exit_code == 2


def test_stats(lite):
    url, sessions = lite
    cli = Cli(url)
    _tickets(sessions)
    seed(sessions, "Опять яма на Кирова, Ялта, машины бьют колёса на дороге", item_id="again")
    route(sessions)
    by_agency = {r["name"]: r for r in cli.json("stats")}
    yalta = by_agency["Администрация городского округа Ялта Республики Крым"]
    assert (yalta["tickets"], yalta["open"], yalta["items"]) == (1, 1, 2)
    by_place = {r["name"]: r for r in cli.json("stats", "--by", "municipality")}
    assert by_place["городской округ Алушта"]["high"] == 1
    assert "Администрация городского округа Ялта" in cli("stats").stdout
