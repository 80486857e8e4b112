"""Ops flow: review queue with filters, show, confirm/reassign → labels + events, bulk with dry run."""
from __future__ import annotations

import sqlalchemy as sa

from storage.tables import Decision, Label, Ticket, TicketEvent, TicketItem
from tests.cli.conftest import ROAD_TEXT, Cli, route, seed

MINZDRAV = "Министерство здравоохранения Республики Крым"


def _seed_queue(sessions):
    """Two review items (no place; low complaint probability), one routed ticket."""
    no_place = seed(sessions, "Вторую неделю нет воды в доме, управляющая компания молчит", topic_group="ЖКХ",
                    municipality=None, geo_confidence=0.0)
    unsure = seed(sessions, "В больнице Алушты нет талонов к терапевту", topic_group="Здравоохранение",
                  municipality="городской округ Алушта", complaint_proba=0.55)
    routed = seed(sessions, ROAD_TEXT)
    decisions = {d.item_pk: d for d in route(sessions)}
    assert decisions[no_place].outcome == "review" and decisions[unsure].outcome == "review"
    assert decisions[routed].outcome == "create"
    return no_place, unsure, decisions[routed].ticket_id


def test_ops_flow(db):
    """The queue, show, confirm and reassign with reasons; labels and events are stored (SQLite and PostgreSQL)."""
    url, sessions = db
    cli = Cli(url)
    no_place, unsure, ticket_id = _seed_queue(sessions)

    queue = cli.json("review", "list")
    assert [(e["kind"], e["id"]) for e in queue] == [("item", unsure), ("item", no_place)]
    assert "no place found" in queue[1]["reason"]
    assert [e["id"] for e in cli.json("review", "list", "--topic", "здравоохр")] == [unsure]
    assert [e["id"] for e in cli.json("review", "list", "--municipality", "АЛУШТА")] == [unsure]
    assert cli.json("review", "list", "--max-age", "1m") == []

    shown = cli("show", "item", str(unsure)).stdout
    assert "нет талонов" in shown and "https://vk.com/wall-1_" in shown and "review:confidence" in shown

    out = cli("reassign", "item", str(no_place), "--municipality", "Бахчисарайский район", "--reason",
              "the group is in Bakhchisaray").stdout
    assert f"item {no_place}" in out and "opened ticket" in out
    out = cli.json("confirm", "item", str(unsure), "--reason", "a real complaint")
    assert out["ticket_id"] is not None
    assert cli.json("review", "list") == []

    cli("reassign", "ticket", str(ticket_id), "--agency", "Минздрав РК", "--reason", "hospital road")
    with sessions() as s:
        labels = s.scalars(sa.select(Label).order_by(Label.id)).all()
        place = [lb for lb in labels if lb.item_pk == no_place and lb.field == "municipality"]
        assert [(lb.value, lb.previous, lb.actor, lb.reason) for lb in place] == [
            ("Бахчисарайский район", None, "tester", "the group is in Bakhchisaray")]
        assert {lb.field for lb in labels if lb.item_pk == unsure} >= {"is_complaint", "topic_group", "municipality"}
        ticket = s.get(Ticket, ticket_id)
        assert ticket.agency == MINZDRAV
        events = s.scalars(sa.select(TicketEvent).where(TicketEvent.ticket_id == ticket_id,
                                                        TicketEvent.kind == "reassign")).all()
        assert [(e.new_value, e.reason, e.actor) for e in events] == [(MINZDRAV, "hospital road", "tester")]
        assert all(d.reviewed for d in s.scalars(sa.select(Decision).where(Decision.outcome == "review")))
        new_ticket = s.scalar(sa.select(TicketItem.ticket_id).where(TicketItem.item_pk == no_place))
        assert s.get(Ticket, new_ticket).agency == "Администрация Бахчисарайского района Республики Крым"

    history = cli("show", "ticket", str(ticket_id)).stdout
    assert "hospital road" in history and "roads-local" in history


def test_not_complaint_and_errors(lite):
    url, sessions = lite
    cli = Cli(url)
    no_place, unsure, ticket_id = _seed_queue(sessions)
    cli("reassign", "item", str(unsure), "--not-complaint", "--reason", "an advert")
    with sessions() as s:
        label = s.scalar(sa.select(Label).where(Label.item_pk == unsure))
        assert (label.field, label.value, label.previous) == ("is_complaint", "False", "True")
        assert s.scalar(sa.select(TicketItem).where(TicketItem.item_pk == unsure)) is None

    for args, message in [
        (("show", "item", "999"), "error: no item 999"),
        (("reassign", "ticket", str(ticket_id), "--agency", "Нет такого", "--reason", "x"), "unknown agency"),
        (("reassign", "item", str(no_place), "--reason", "x"), "nothing to change"),
        (("confirm", "item", str(no_place), "--reason", "  "), "a reason is required"),
        (("reassign", "item", str(no_place), "--topic-group", "Космос", "--reason", "x"), "unknown topic group"),
        (("review", "list", "--max-age", "soon"), "bad duration"),
        (("review", "confirm", "--reason", "x"), "at least one filter"),
    ]:
        result = cli(*args, ok=False)
        assert result.exit_code == 2, (args, result.output)
        assert message in result.stderr and "Traceback" not in result.output
        assert result.stderr.count("\n") == 1


def test_bulk_dry_run_then_apply(lite):
    url, sessions = lite
    cli = Cli(url)
    for n in range(3):
        seed(sessions, f"Нет воды в доме номер {n}", topic_group="ЖКХ", municipality=None, geo_confidence=0.0)
    seed(sessions, "Яма у школы, нет освещения", municipality=None, geo_confidence=0.0)
    route(sessions)
    dry = cli.json("review", "reassign", "--topic", "жкх", "--to-municipality", "городской округ Керчь",
                   "--reason", "Kerch group", "--dry-run")
    assert len(dry) == 3
    with sessions() as s:
        assert s.scalar(sa.select(sa.func.count()).select_from(Label)) == 0
    done = cli.json("review", "reassign", "--topic", "жкх", "--to-municipality", "городской округ Керчь",
                    "--reason", "Kerch group")
    assert (len(done["done"]), done["failed"]) == (3, [])
    remaining = cli.json("review", "list")
    assert [e["topic_group"] for e in remaining] == ["Дороги"]
    with sessions() as s:
        assert s.scalar(sa.select(sa.func.count()).select_from(Ticket)) >= 1
        assert s.scalar(sa.select(sa.func.count()).select_from(Label).where(Label.field == "municipality")) == 3


def test_flagged_ticket_joins_the_queue_until_reassigned(lite):
    url, sessions = lite
    cli = Cli(url)
    _, _, ticket_id = _seed_queue(sessions)
    cli("tickets", "flag", str(ticket_id), "--by", "Администрация Ялты", "--reason", "this road is federal")
    flagged = [e for e in cli.json("review", "list") if e["kind"] == "ticket"]
    assert [(e["id"], e["reason"]) for e in flagged] == [(ticket_id, "misrouted: this road is federal")]
    assert [e["id"] for e in cli.json("review", "list", "--agency", "ялта")] == [ticket_id]
    cli("confirm", "ticket", str(ticket_id), "--reason", "checked: the road is municipal")
    assert [e for e in cli.json("review", "list") if e["kind"] == "ticket"] == []
    cli("tickets", "flag", str(ticket_id), "--by", "Администрация Ялты", "--reason", "still not ours")
    done = cli.json("review", "reassign", "--agency", "ялта", "--to-agency", "Минздрав РК", "--reason", "bulk fix")
    assert [(d["target"], d["ticket_id"]) for d in done["done"]] == [(f"ticket {ticket_id}", ticket_id)]
    assert [e for e in cli.json("review", "list") if e["kind"] == "ticket"] == []
    with sessions() as s:
        kinds = s.scalars(sa.select(TicketEvent.kind).where(TicketEvent.ticket_id == ticket_id)
                          .order_by(TicketEvent.id)).all()
        assert kinds[1:] == ["misrouted", "confirm", "misrouted", "reassign"]
        confirmed = s.scalars(sa.select(Label).where(Label.reason == "checked: the road is municipal")).all()
        assert {lb.field for lb in confirmed} >= {"agency", "topic_group", "municipality"}
        assert all(lb.value == lb.previous for lb in confirmed)
