"""Stage runners: each pipeline stage can be re-run alone (thin wrappers around tsur.pipeline.Pipeline)."""
from __future__ import annotations

from dataclasses import asdict
from typing import Optional

import typer

from tsur.cli.output import print_rows, say
from tsur.cli.state import state

app = typer.Typer(no_args_is_help=True, help="Run pipeline stages once: collect, analyse, route, sla, deliver, "
                  "once.\n\nExample: tsur run collect --source replay:samples/demo.jsonl")


@app.callback()
def _creates(ctx: typer.Context) -> None:
    # the stages do the daemon's work: like it, they create the database if it does not exist yet
    state(ctx).creates = ctx.invoked_subcommand in ("collect", "analyse", "route", "sla", "deliver", "once")

OUTCOME_COLUMNS = {"source": "Source", "status": "Status", "pages": "Pages", "new": "New", "updated": "Updated",
                   "quarantined": "Quarantined", "requests": "Requests", "waits": "Waits s", "error": "Error"}


def _check_enabled(st, key: str) -> None:
    """A disabled source is not polled: say so instead of reporting it as leased elsewhere."""
    import sqlalchemy as sa

    from storage.tables import Source

    with st.sessions() as s:
        row = s.execute(sa.select(Source.enabled, Source.disabled_reason).where(Source.key == key)).first()
    if row is None:
        raise KeyError(f"unknown source {key!r} (see `tsur sources list`)")
    if not row.enabled:
        raise ValueError(f"source {key} is disabled ({row.disabled_reason or 'no reason'}): "
                         f"`tsur sources enable {key}` first")


@app.command("collect")
def collect(ctx: typer.Context, source: Optional[str] = typer.Option(
        None, "--source", help="Poll only this source key (default: every enabled source that is due).")) -> None:
    """Sync sources from the sources file, then poll one source or every due one.

    Example: tsur run collect --source vk:wall:-12345678
    """
    st = state(ctx)
    pipeline = st.pipeline
    pipeline.sync_sources()
    if source:
        _check_enabled(st, source)
    outcomes = [pipeline.collect(source)] if source else pipeline.collect_due()
    print_rows(st, [asdict(o) for o in outcomes], OUTCOME_COLUMNS, title="Collected",
               widths={"error": 50}, empty="no source was due")


@app.command("analyse")
def analyse(ctx: typer.Context) -> None:
    """Analyse every item waiting for analysis with the active model.

    Example: tsur run analyse
    """
    st = state(ctx)
    n = st.pipeline.analyse()
    say(st, f"analysed {n} item(s)", {"analysed": n})


@app.command("route")
def route(ctx: typer.Context) -> None:
    """Route every analysed item: ticket, join an incident, review or ignore.

    Example: tsur run route
    """
    st = state(ctx)
    counts = dict(st.pipeline.route())
    say(st, "routed: " + (", ".join(f"{k} {v}" for k, v in sorted(counts.items())) or "nothing waiting"), counts)


@app.command("sla")
def sla(ctx: typer.Context) -> None:
    """Check SLA due times of open tickets (ok / warning / overdue).

    Example: tsur run sla
    """
    st = state(ctx)
    counts = st.pipeline.check_sla()
    say(st, "sla: " + (", ".join(f"{k} {v}" for k, v in sorted(counts.items())) or "no open tickets"), counts)


@app.command("deliver")
def deliver(ctx: typer.Context) -> None:
    """Send pending deliveries from the outbox to the agencies' channels.

    Example: tsur run deliver
    """
    st = state(ctx)
    counts = st.pipeline.deliver()
    say(st, "deliver: " + (", ".join(f"{k} {v}" for k, v in sorted(counts.items())) or "nothing pending"), counts)


@app.command("once")
def once(ctx: typer.Context) -> None:
    """One full pass: sync sources, collect every enabled source, analyse, route, SLA, deliver.

    Example: tsur --config /etc/tsur/tsur.toml run once
    """
    st = state(ctx)
    result = st.pipeline.run_once()
    collected = [asdict(o) for o in result.pop("collected")]
    if st.json:
        say(st, "", {"collected": collected, **result})
        return
    print_rows(st, collected, OUTCOME_COLUMNS, title="Collected", widths={"error": 50}, empty="no enabled sources")
    for stage in ("analysed", "routed", "sla", "delivered"):
        value = result[stage]
        text = ", ".join(f"{k} {v}" for k, v in sorted(value.items())) if isinstance(value, dict) else str(value)
        st.console.print(f"{stage}: {text or '-'}", highlight=False)


FAILED_COLUMNS = {"id": "Item", "source": "Source", "item_id": "Id", "revision": "Rev", "updated_at": "Updated",
                  "error": "Error"}


@app.command("failed")
def failed(ctx: typer.Context, limit: int = typer.Option(100, "--limit", min=0, help="At most this many (0: all).")
           ) -> None:
    """List items that failed alone in the analyse or route stage and were parked (stage `failed`), with the error.

    Example: tsur run failed --limit 20
    """
    from tsur.stages.failures import failed_items

    st = state(ctx)
    with st.sessions() as s:
        rows = [{k: getattr(i, k) for k in FAILED_COLUMNS} for i in failed_items(s, limit or None)]
    print_rows(st, rows, FAILED_COLUMNS, title="Parked items", widths={"error": 80}, empty="no parked items")


@app.command("retry")
def retry(ctx: typer.Context, items: Optional[str] = typer.Option(
        None, "--items", help="Only these item ids, e.g. 41,42 (default: every parked item).")) -> None:
    """Put parked items back in the stage they failed in (after fixing the cause); the next pass takes them.

    Example: tsur run retry --items 41,42
    """
    from tsur.cli.tickets import parse_ids
    from tsur.stages.failures import retry_failed

    st = state(ctx)
    with st.sessions.begin() as s:
        n = retry_failed(s, parse_ids(items) if items else None)
    say(st, f"{n} parked item(s) back in their stage", {"retried": n})
