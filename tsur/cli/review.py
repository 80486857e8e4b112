"""Ops: the review queue, `show`, and corrections (`confirm`, `reassign`) one by one or in bulk."""
from __future__ import annotations

from enum import Enum
from typing import Optional

import typer
from rich.panel import Panel
from rich.text import Text

from storage.tables import utcnow
from tsur import queries
from tsur.cli import corrections
from tsur.cli.errors import known_errors, one_line
from tsur.cli.output import cell, parse_duration, print_json, print_rows, printable, say
from tsur.cli.state import State, state

app = typer.Typer(no_args_is_help=True, help="The review queue: list it, confirm or reassign what it holds.\n\n"
                  "Example: tsur review list --municipality Ялта --max-age 3d")

QUEUE_COLUMNS = {"kind": "Kind", "id": "Id", "at": "At", "agency": "Agency", "topic_group": "Topic group",
                 "municipality": "Municipality", "reason": "Why", "text": "Text"}
WIDTHS = {"agency": 30, "reason": 40, "text": 50, "topic_group": 20}


class Kind(str, Enum):
    item = "item"
    ticket = "ticket"


AgencyOpt = typer.Option(None, "--agency", help="Agency name contains this (any case).")
TopicOpt = typer.Option(None, "--topic", help="Topic group or topic contains this.")
MunOpt = typer.Option(None, "--municipality", help="Municipality or settlement contains this.")
MinAgeOpt = typer.Option(None, "--min-age", help="Only entries at least this old (e.g. 2h, 3d).")
MaxAgeOpt = typer.Option(None, "--max-age", help="Only entries at most this old (e.g. 1d).")
ReasonOpt = typer.Option(..., "--reason", "-r", help="Why (stored with the label and the ticket event).")
AttachOpt = typer.Option(None, "--attach-to", help="A review item joins this open ticket instead of opening one.")


def _queue(st: State, agency, topic, municipality, min_age, max_age, limit=None):
    with st.sessions() as s:
        return queries.review_queue(s, agency=agency, topic=topic, municipality=municipality,
                                    min_age=parse_duration(min_age), max_age=parse_duration(max_age), limit=limit)


@app.command("list")
def list_queue(ctx: typer.Context, agency: Optional[str] = AgencyOpt, topic: Optional[str] = TopicOpt,
               municipality: Optional[str] = MunOpt, min_age: Optional[str] = MinAgeOpt,
               max_age: Optional[str] = MaxAgeOpt,
               limit: int = typer.Option(50, "--limit", min=0, help="At most this many (0: all).")) -> None:
    """List the review queue (low confidence, no place, no route, flagged as misrouted), oldest first.

    Example: tsur review list --topic ЖКХ --min-age 2h
    """
    st = state(ctx)
    rows = [e.as_dict() for e in _queue(st, agency, topic, municipality, min_age, max_age, limit or None)]
    print_rows(st, rows, QUEUE_COLUMNS, title="Review queue", widths=WIDTHS, empty="the review queue is empty")


def _correct(st: State, kind: Kind, id_: int, changes: dict, reason: str, is_complaint: bool = True,
             attach_to: int | None = None, explicit: bool = True):
    """One correction; `explicit=False` in bulk actions (labels only for changed fields, no confirmations)."""
    now = utcnow()
    with st.sessions.begin() as s:
        if kind is Kind.item:
            return corrections.review_item(s, id_, changes, actor=st.actor, reason=reason, now=now, policy=st.policy,
                                           is_complaint=is_complaint, attach_to=attach_to, places=st.places,
                                           explicit=explicit)
        ticket = queries.get_ticket(s, id_)
        if attach_to:
            raise ValueError("--attach-to is for review items, not tickets (use `tsur tickets merge TICKET INTO`)")
        if not is_complaint:
            raise ValueError(f"ticket {id_}: close it instead (tsur tickets close)")
        if changes:
            return corrections.reassign_ticket(s, ticket, changes, actor=st.actor, reason=reason, now=now,
                                               policy=st.policy, places=st.places)
        return corrections.confirm_ticket(s, ticket, actor=st.actor, reason=reason, now=now, explicit=explicit)


def _report(st: State, out: corrections.Outcome, verb: str) -> None:
    extra = f"; {out.note}" if out.note else ""
    say(st, f"{verb} {out.target}: {out.labels} label(s), {out.events} event(s){extra}", out.__dict__)


def confirm(ctx: typer.Context, kind: Kind = typer.Argument(..., help="item or ticket"),
            id_: int = typer.Argument(..., metavar="ID", help="Item or ticket id."),
            attach_to: Optional[int] = AttachOpt, reason: str = ReasonOpt) -> None:
    """Confirm the analysis/routing of an item or ticket as right; stored as labels (and a ticket event).

    A confirmed review item opens a ticket for the agency the rules choose (or joins --attach-to).
    Example: tsur confirm item 42 --reason "place and topic are right"
    """
    st = state(ctx)
    _report(st, _correct(st, kind, id_, {}, reason, attach_to=attach_to), "confirmed")


def reassign(ctx: typer.Context, kind: Kind = typer.Argument(..., help="item or ticket"),
             id_: int = typer.Argument(..., metavar="ID", help="Item or ticket id."),
             agency: Optional[str] = typer.Option(None, "--agency", help="Agency (full or short name)."),
             topic_group: Optional[str] = typer.Option(None, "--topic-group", help="ИМ topic group."),
             topic: Optional[str] = typer.Option(None, "--topic", help="ИМ topic (sets its group too)."),
             municipality: Optional[str] = typer.Option(None, "--municipality", help="Municipality."),
             settlement: Optional[str] = typer.Option(None, "--settlement", help="Settlement."),
             importance: Optional[str] = typer.Option(None, "--importance", help="normal or high."),
             not_complaint: bool = typer.Option(False, "--not-complaint", help="The item is not a complaint."),
             attach_to: Optional[int] = AttachOpt, reason: str = ReasonOpt) -> None:
    """Correct agency, topic, place or importance of an item or ticket; each change is a label and an event.

    Example: tsur reassign ticket 7 --agency "Минздрав РК" --reason "hospital, not the municipality"
    """
    st = state(ctx)
    changes = dict(agency=agency, topic_group=topic_group, topic=topic, municipality=municipality,
                   settlement=settlement, importance=importance)
    changes = {k: v for k, v in changes.items() if v is not None}
    if not changes and not not_complaint:
        raise ValueError("nothing to change: give --agency, --topic, --topic-group, --municipality, "
                         "--settlement, --importance or --not-complaint")
    _report(st, _correct(st, kind, id_, changes, reason, is_complaint=not not_complaint, attach_to=attach_to),
            "reassigned")


def _show_item(st: State, d: dict) -> None:
    item, an, dec = d["item"], d["analysis"], d["decision"]
    st.console.print(Panel(Text(printable(item["text"] or "(text purged)")),
                           title=Text(printable(f"item {item['id']} · {item['source']} · "
                                                f"{cell(item['published_at'], tz=st.tz)}")),
                           subtitle=Text(printable(item["url"] or ""))))
    if an:
        genre = an.get("genre") or "- (analysed before genres)"
        st.console.print(f"analysis ({an['model_version']}): genre {genre}, complaint={an['is_complaint']} "
                         f"p={cell(an['complaint_proba'])}; topic {an['topic_group'] or '-'} / {an['topic'] or '-'} "
                         f"p={cell(an['topic_proba'])}; place {an['municipality'] or '-'} / {an['settlement'] or '-'} "
                         f"({cell(an['geo_confidence'])}, «{printable(an['geo_evidence'] or '')}»); "
                         f"importance {an['importance']}", highlight=False, markup=False)
    if dec:
        st.console.print(f"decision: {dec['outcome']} by rule {dec['rule']} → {dec['agency'] or 'no agency'}"
                         f"{' (reviewed)' if dec['reviewed'] else ''}: {printable(dec['reason'] or '')}",
                         highlight=False, markup=False)
    if d["ticket_id"]:
        st.console.print(f"ticket: {d['ticket_id']} (tsur show ticket {d['ticket_id']})")
    _show_labels(st, d["labels"])


def _show_labels(st: State, labels: list[dict]) -> None:
    print_rows(st, labels, {"created_at": "At", "item_pk": "Item", "field": "Field", "previous": "Was",
                            "value": "Now", "actor": "By", "reason": "Why"}, title="Labels", empty="labels: none")


def _show_ticket(st: State, d: dict) -> None:
    t = d["ticket"]
    st.console.print(Panel(Text(printable(
        f"{t['agency'] or '(triage: no route)'}\n{t['topic_group'] or '-'} / {t['topic'] or '-'}\n"
        f"{t['municipality'] or '-'} / {t['settlement'] or '-'} · importance {t['importance']}\n"
        f"status {t['status']}{' (' + t['closing_reason'] + ')' if t['closing_reason'] else ''} · SLA {t['sla_state']}"
        f" · due {cell(t['due_at'], tz=st.tz)} · rule {t['rule'] or '-'} ({t['rules_version'] or '-'})")),
        title=f"ticket {t['id']} · created {cell(t['created_at'], tz=st.tz)}"), highlight=False)
    for it in d["items"]:
        st.console.print(Panel(Text(printable(it["text"] or "(text purged)")),
                               title=Text(printable(f"item {it['id']} · {it['source']} · {it['via']}")),
                               subtitle=Text(printable(it["url"] or ""))))
    print_rows(st, d["decisions"], {"item_pk": "Item", "outcome": "Outcome", "rule": "Rule", "reason": "Why"},
               title="Routing decisions", widths={"reason": 70}, empty="decisions: none")
    print_rows(st, d["events"], {"at": "At", "actor": "By", "kind": "What", "old_value": "From",
                                 "new_value": "To", "reason": "Why"}, title="History", widths={"reason": 50})
    _show_labels(st, d["labels"])


def show(ctx: typer.Context, kind: Kind = typer.Argument(..., help="item or ticket"),
         id_: int = typer.Argument(..., metavar="ID", help="Item or ticket id.")) -> None:
    """Show an item or ticket: text, source link, analysis, the rule that routed it, and its history.

    Example: tsur show ticket 7
    """
    st = state(ctx)
    with st.sessions() as s:
        detail = queries.item_detail(s, id_) if kind is Kind.item else queries.ticket_detail(s, id_)
    if st.json:
        print_json(st, detail)
    else:
        (_show_item if kind is Kind.item else _show_ticket)(st, detail)


def register(root: typer.Typer) -> None:
    """Add the top-level ops commands: show, confirm, reassign."""
    root.command("show")(show)
    root.command("confirm")(confirm)
    root.command("reassign")(reassign)



def _select(st: State, agency, topic, municipality, min_age, max_age, all_: bool):
    if not all_ and not any((agency, topic, municipality, min_age, max_age)):
        raise ValueError("give at least one filter, or --all to act on the whole queue")
    return _queue(st, agency, topic, municipality, min_age, max_age)


def _bulk(st: State, entries, changes: dict, reason: str, dry_run: bool, verb: str) -> None:
    if dry_run:
        print_rows(st, [e.as_dict() for e in entries], QUEUE_COLUMNS, title=f"Would {verb} {len(entries)}",
                   widths=WIDTHS, empty="nothing matches")
        return
    done, failed = [], []
    for e in entries:
        try:
            done.append(_correct(st, Kind(e.kind), e.id, changes, reason, explicit=False).__dict__)
        except known_errors() as exc:
            failed.append({"kind": e.kind, "id": e.id, "error": one_line(exc)})
    if st.json:
        print_json(st, {"done": done, "failed": failed})
    else:
        st.console.print(f"{verb}: {len(done)} done, {len(failed)} failed", highlight=False)
        for f in failed:
            st.console.print(printable(f"  {f['kind']} {f['id']}: {f['error']}"), highlight=False, markup=False)
    if failed:
        raise typer.Exit(2)


@app.command("confirm")
def bulk_confirm(ctx: typer.Context, agency: Optional[str] = AgencyOpt, topic: Optional[str] = TopicOpt,
                 municipality: Optional[str] = MunOpt, min_age: Optional[str] = MinAgeOpt,
                 max_age: Optional[str] = MaxAgeOpt,
                 all_: bool = typer.Option(False, "--all", help="Act on the whole queue (no filter)."),
                 dry_run: bool = typer.Option(False, "--dry-run", help="Only list what would be confirmed."),
                 reason: str = ReasonOpt) -> None:
    """Confirm every queue entry that matches the filters: review items open tickets, flags are settled.

    Unlike `tsur confirm` of one item, no field is labelled as confirmed: nobody looked at each entry.

    Example: tsur review confirm --topic Дороги --municipality Ялта --reason "checked by hand" --dry-run
    """
    st = state(ctx)
    _bulk(st, _select(st, agency, topic, municipality, min_age, max_age, all_), {}, reason, dry_run, "confirm")


@app.command("reassign")
def bulk_reassign(ctx: typer.Context, agency: Optional[str] = AgencyOpt, topic: Optional[str] = TopicOpt,
                  municipality: Optional[str] = MunOpt, min_age: Optional[str] = MinAgeOpt,
                  max_age: Optional[str] = MaxAgeOpt,
                  to_agency: Optional[str] = typer.Option(None, "--to-agency", help="New agency."),
                  to_topic_group: Optional[str] = typer.Option(None, "--to-topic-group", help="New topic group."),
                  to_topic: Optional[str] = typer.Option(None, "--to-topic", help="New topic."),
                  to_municipality: Optional[str] = typer.Option(None, "--to-municipality", help="New municipality."),
                  to_importance: Optional[str] = typer.Option(None, "--to-importance", help="normal or high."),
                  all_: bool = typer.Option(False, "--all", help="Act on the whole queue (no filter)."),
                  dry_run: bool = typer.Option(False, "--dry-run", help="Only list what would be reassigned."),
                  reason: str = ReasonOpt) -> None:
    """Reassign every queue entry that matches the filters (each one like `tsur reassign`).

    Only the fields this changes are labelled; the others were not looked at and are not confirmed.

    Example: tsur review reassign --topic Здравоохранение --to-agency "Минздрав РК" --reason "health" --dry-run
    """
    st = state(ctx)
    changes = {k: v for k, v in dict(agency=to_agency, topic_group=to_topic_group, topic=to_topic,
                                     municipality=to_municipality, importance=to_importance).items() if v}
    if not changes:
        raise ValueError("nothing to change: give --to-agency, --to-topic-group, --to-topic, --to-municipality "
                         "or --to-importance")
    _bulk(st, _select(st, agency, topic, municipality, min_age, max_age, all_), changes, reason, dry_run, "reassign")
