"""Ops flow: review queue with filters, show, confirm/reassign → labels + events, bulk with dry run."""
from __future__ import annotations

import pandas as pd
import sqlalchemy as sa

from storage.tables import AnalysisRow, Decision, Item, Label, Ticket, TicketEvent, TicketItem
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


def _fields(sessions, reason):
    with sessions() as s:
        rows = s.execute(sa.select(Label.item_pk, Label.field).where(Label.reason == reason)).all()
    found: dict[int, set[str]] = {}
    for pk, name in rows:
        found.setdefault(pk, set()).add(name)
    return found


def test_bulk_actions_label_only_what_they_change(lite, tmp_path):
    """A bulk reassign to an agency does not confirm the topic or place nobody looked at (a water-main
    accident filed under «Дороги» must not become a «Дороги» label); bulk confirm labels no field either."""
    url, sessions = lite
    cli = Cli(url)
    water = seed(sessions, "Прорыв водопровода на Кирова, вода хлещет на проезжую часть", municipality=None,
                 geo_confidence=0.0)
    road = seed(sessions, "Яма на дороге у рынка, колёса бьют", municipality=None, geo_confidence=0.0)
    unsure = seed(sessions, "Светофор не работает на перекрёстке", municipality="городской округ Ялта",
                  complaint_proba=0.55)
    route(sessions)
    cli("review", "reassign", "--topic", "Дороги", "--to-agency", "Минтранспорта", "--reason", "bulk fix")
    assert _fields(sessions, "bulk fix") == {water: {"is_complaint", "agency"}, road: {"is_complaint", "agency"},
                                             unsure: {"is_complaint", "agency"}}
    cli("labels", "export", str(tmp_path / "labels.csv"))
    exported = pd.read_csv(tmp_path / "labels.csv").set_index("item_pk")
    assert exported.loc[water, "agency"] == "Министерство транспорта Республики Крым"
    assert pd.isna(exported.loc[water, "topic_group"]) and pd.isna(exported.loc[water, "municipality"])

    late = seed(sessions, "Снова яма на дороге у школы", municipality=None, geo_confidence=0.0)
    route(sessions)
    cli("reassign", "item", str(late), "--municipality", "Ялта", "--reason", "one by one")
    assert _fields(sessions, "one by one") == {late: {"is_complaint", "municipality"}}


def test_per_item_confirm_labels_what_it_confirms_bulk_confirm_does_not(lite):
    url, sessions = lite
    cli = Cli(url)
    one = seed(sessions, "Светофор не работает на перекрёстке", complaint_proba=0.55)
    two = seed(sessions, "Второй светофор тоже не работает", complaint_proba=0.55)
    route(sessions)
    cli("confirm", "item", str(one), "--reason", "checked this one")
    assert _fields(sessions, "checked this one") == {one: {"is_complaint", "topic_group", "municipality"}}
    cli("review", "confirm", "--topic", "Дороги", "--reason", "bulk ok")
    assert _fields(sessions, "bulk ok") == {two: {"is_complaint"}}


def test_ticket_corrections_label_complaint_items_with_their_own_prediction(lite):
    """Every complaint item of the incident gets the corrected value with its own prediction as `previous`;
    an item the model (re-)reads as no complaint («Спасибо, починили» after an edit) gets no label."""
    url, sessions = lite
    cli = Cli(url)
    post = seed(sessions, ROAD_TEXT)
    comment = seed(sessions, "А у нас во дворе ещё и фонари не горят", topic_group="Благоустройство")
    thanks = seed(sessions, "Там тоже яма на дороге, колёса бьют")
    with sessions.begin() as s:
        for pk in (comment, thanks):
            s.get(Item, pk).parent_id = "i1"  # comments under the post: they join its ticket by the thread rule
    decisions = {d.item_pk: d for d in route(sessions)}
    ticket_id = decisions[post].ticket_id
    assert decisions[comment].ticket_id == decisions[thanks].ticket_id == ticket_id
    with sessions.begin() as s:
        s.get(Item, thanks).revision = 2  # edited into a thank-you, re-analysed
        s.add(AnalysisRow(item_pk=thanks, revision=2, model_version="test", is_complaint=False, complaint_proba=0.1,
                          topic_group="Прочее", topic_proba=0.5, municipality=None, geo_confidence=0.0,
                          importance="normal"))
    yalta = "Администрация городского округа Ялта Республики Крым"
    cli("reassign", "ticket", str(ticket_id), "--topic-group", "ЖКХ", "--reason", "water, not roads")
    cli("confirm", "ticket", str(ticket_id), "--reason", "checked by hand")
    with sessions() as s:
        rows = s.execute(sa.select(Label.item_pk, Label.field, Label.value, Label.previous, Label.reason)
                         .order_by(Label.id)).all()
    assert {(pk, value, previous) for pk, f, value, previous, why in rows
            if why == "water, not roads"} == {(post, "ЖКХ", "Дороги"), (comment, "ЖКХ", "Благоустройство")}
    confirmed = {(pk, f): previous for pk, f, value, previous, why in rows if why == "checked by hand"}
    assert {pk for pk, _ in confirmed} == {post, comment}
    assert confirmed[(comment, "topic_group")] == "Благоустройство" and confirmed[(post, "agency")] == yalta


HOSTILE = ("\x1b]8;;http://evil.example\x07Нет воды\x1b]8;;\x07 [bold red]СРОЧНО[/bold red] \x1b[2J\x1b[31mул. Ленина"
           "\x9b31m \u202eтекст\x07\x08")


def test_post_text_is_printed_without_terminal_escapes_and_markup(lite):
    """`tsur show item|ticket` and tables print post text as text: no OSC/CSI escapes, [markup] shown literally."""
    url, sessions = lite
    cli = Cli(url)
    item = seed(sessions, HOSTILE, municipality=None, geo_confidence=0.0)
    other = seed(sessions, HOSTILE + " " + ROAD_TEXT)
    decisions = {d.item_pk: d for d in route(sessions)}
    outputs = [cli("show", "item", str(item)).stdout, cli("show", "ticket", str(decisions[other].ticket_id)).stdout,
               cli("review", "list").stdout]
    for out in outputs:
        assert not [ch for ch in out if ord(ch) < 32 and ch not in "\n" or 0x7f <= ord(ch) <= 0x9f], out
        assert "\u202e" not in out and "evil.example" not in out
        assert "[bold red]СРОЧНО[/bold red]" in " ".join(out.split()) or "[bold red]СРОЧНО[/bold" in out
    assert "Нет воды" in outputs[0] and "ул. Ленина" in outputs[0]
