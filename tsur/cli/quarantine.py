"""Ops: records the collectors quarantined — list, show, retry after a fix, drop."""
from __future__ import annotations

from dataclasses import asdict
from typing import Optional

import typer

from storage import quarantine
from storage.tables import utcnow
from tsur.cli.output import cell, parse_duration, print_json, print_rows, safe_json, say, shown
from tsur.cli.state import state

app = typer.Typer(no_args_is_help=True, help="Quarantined records: list, show, retry after a fix, drop.\n\n"
                  "Example: tsur quarantine list --source vk:wall:-123 --since 3d")

STATUS_HELP = "open (default), retried, dropped or all."
OUTCOMES = ("stored", "refused", "cannot", "skipped")


def _status(value: str) -> str | None:
    if value != "all" and value not in quarantine.STATUSES:
        raise ValueError(f"unknown status {value!r}: use {', '.join(quarantine.STATUSES)} or all")
    return None if value == "all" else value


@app.command("list")
def list_records(ctx: typer.Context,
                 source: Optional[str] = typer.Option(None, "--source", help="Only this source key."),
                 since: Optional[str] = typer.Option(None, "--since", help="Only records quarantined this recently "
                                                     "(e.g. 12h, 3d)."),
                 status: str = typer.Option("open", "--status", help=STATUS_HELP),
                 limit: int = typer.Option(50, "--limit", min=1, help="Show at most this many, newest first.")) -> None:
    """Quarantined records (id, when, source, reason), newest first, and how many per source and reason class.

    With --json: {"records": [...], "summary": [{"source", "reason_class", "count"}], "total": N}.
    Example: tsur quarantine list --source vk:wall:-123 --since 3d --limit 20
    """
    st = state(ctx)
    window = parse_duration(since)
    filters = dict(source=source, since=utcnow() - window if window else None, status=_status(status))
    with st.sessions() as s:
        rows = [{"id": r.id, "created_at": r.created_at, "source": r.source, "status": r.status, "reason": r.reason,
                 "resolved_by": r.resolved_by, "resolution": r.resolution}
                for r in quarantine.list_records(s, limit=limit, **filters)]
        counts = quarantine.summary(s, **filters)
    total = sum(c["count"] for c in counts)
    if st.json:
        print_json(st, {"records": rows, "summary": counts, "total": total})
        return
    print_rows(st, rows, {"id": "Id", "created_at": "When", "source": "Source", "status": "Status",
                          "reason": "Reason"}, title=f"Quarantine ({len(rows)} of {total})",
               widths={"source": 40, "reason": 100}, empty="nothing quarantined")
    if counts:
        print_rows(st, counts, {"count": "Records", "source": "Source", "reason_class": "Reason class"},
                   title="By source and reason", widths={"source": 40})


@app.command("show")
def show(ctx: typer.Context, record_id: int = typer.Argument(..., metavar="ID", help="Quarantine record id.")) -> None:
    """One quarantined record: source, reason, status and the stored record as JSON (escaped for the terminal).

    Example: tsur quarantine show 12
    """
    st = state(ctx)
    with st.sessions() as s:
        r = quarantine.get_record(s, record_id)
        data = {"id": r.id, "created_at": r.created_at, "source": r.source, "status": r.status, "reason": r.reason,
                "resolved_at": r.resolved_at, "resolved_by": r.resolved_by, "resolution": r.resolution, "raw": r.raw}
    if st.json:
        print_json(st, data)
        return
    for key in ("id", "created_at", "source", "status", "reason", "resolved_at", "resolved_by", "resolution"):
        if data[key] is not None:
            st.console.print(f"[bold]{key}:[/bold] {cell(data[key], tz=st.tz)}", highlight=False)
    label, record = _record(data["raw"])
    st.console.print(f"[bold]{label}:[/bold]", highlight=False)
    st.console.print(safe_json(record), markup=False, highlight=False)


def _record(raw):
    """What to show of a stored record: a replay line that parses as its JSON, anything else as stored."""
    import json

    if isinstance(raw, dict) and set(raw) == {"line"} and isinstance(raw["line"], str):
        try:
            return "record (replay line)", json.loads(raw["line"])
        except Exception:  # a line that never parsed is shown as the string it is
            pass
    return "record", raw


@app.command("retry")
def retry(ctx: typer.Context,
          ids: Optional[list[int]] = typer.Argument(None, metavar="ID", help="Quarantine record ids."),
          source: Optional[str] = typer.Option(None, "--source", help="Retry every open record of this source."),
          all_: bool = typer.Option(False, "--all", help="Retry every open record (of --source if given)."),
          dry_run: bool = typer.Option(False, "--dry-run", help="Say what would happen; change nothing.")) -> None:
    """Adapt quarantined records again with the current code (after a fix) and store those that pass now.

    Stored ones are marked retried (an item stored already is not duplicated); refused ones stay open with the new
    reason; one line per record that cannot be re-adapted (a line that never parsed, a purged payload).
    Example: tsur quarantine retry --source replay:samples/demo.jsonl --dry-run
    Example: tsur quarantine retry 12 13
    """
    from collectors.pseudonym import Pseudonymizer, load_key
    from collectors.retry import retry_records

    st = state(ctx)
    if ids and (source or all_):
        raise ValueError("give record ids, or --source/--all, not both")
    if not ids and not (source or all_):
        raise ValueError("give record ids, --source KEY or --all (see `tsur quarantine list`)")
    if not ids:
        with st.sessions() as s:
            ids = quarantine.open_ids(s, source=source)
        if not ids:
            say(st, "nothing to retry: no open quarantined records" + (f" of {source}" if source else ""),
                {"dry_run": dry_run, "counts": dict.fromkeys(OUTCOMES, 0), "results": []})
            return
    pseudonymize = Pseudonymizer(load_key(st.settings.secret("pseudonym_key"), st.settings.data_dir))
    results = retry_records(st.sessions, list(ids), pseudonymize, actor=st.actor,
                            max_text_chars=st.settings.max_text_chars, dry_run=dry_run)
    counts = {k: sum(r.outcome == k for r in results) for k in OUTCOMES}
    if st.json:
        print_json(st, {"dry_run": dry_run, "counts": counts, "results": [asdict(r) for r in results]})
        return
    verbs = {"stored": "would store" if dry_run else "stored", "refused": "still refused:",
             "cannot": "", "skipped": "skipped:"}
    for r in results:
        st.console.print(f"#{r.id} {shown(' '.join(f'{verbs[r.outcome]} {r.detail}'.split()))}", highlight=False)
    say(st, f"{'dry run: ' if dry_run else ''}{len(results)} record(s): {counts['stored']} stored, "
            f"{counts['refused']} still refused, {counts['cannot']} cannot be re-adapted, {counts['skipped']} skipped")


@app.command("drop")
def drop(ctx: typer.Context, ids: list[int] = typer.Argument(..., metavar="ID", help="Quarantine record ids."),
         reason: str = typer.Option(..., "--reason", "-r", help="Why no retry is needed.")) -> None:
    """Dismiss open quarantined records (no retry needed); who and why are recorded.

    Example: tsur quarantine drop 12 13 -r "spam posts, nothing to fix"
    """
    st = state(ctx)
    with st.sessions.begin() as s:
        done = quarantine.drop_records(s, ids, st.actor, reason)
    message = f"dropped {len(done['dropped'])} record(s)"
    if done["not_open"]:
        message += f"; not open, left as they are: {', '.join(map(str, done['not_open']))}"
    say(st, message, done)
