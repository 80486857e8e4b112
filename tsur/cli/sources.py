"""Ops: sources in the database — add, list, enable/disable, health."""
from __future__ import annotations

import re
from typing import Optional

import sqlalchemy as sa
import typer

from collectors.options import parse_options
from collectors.sources_file import KINDS, TYPES, did_you_mean, source_key
from storage.tables import Source, utcnow
from tsur import queries
from tsur.cli.output import human_seconds, print_rows, say
from tsur.cli.state import state

app = typer.Typer(no_args_is_help=True, help="Sources: add, list, enable, disable, health.\n\n"
                  "Example: tsur sources health --silent-factor 3")


def _get(s, key: str) -> Source:
    row = s.scalar(sa.select(Source).where(Source.key == key))
    if row is None:
        raise KeyError(f"unknown source {key!r} (see `tsur sources list`)")
    return row


@app.command("add")
def add(ctx: typer.Context,
        type_: str = typer.Argument(..., metavar="TYPE", help=f"One of: {', '.join(TYPES)}."),
        handle: str = typer.Argument(..., help="VK owner id, search name, channel username, URL or JSONL path."),
        kind: str = typer.Option("community", "--kind", help=f"One of: {', '.join(KINDS)}."),
        home_municipality: Optional[str] = typer.Option(None, "--home-municipality",
                                                        help="Municipality the source writes about."),
        interval: int = typer.Option(600, "--interval", min=10, help="Seconds between polls."),
        option: Optional[list[str]] = typer.Option(
            None, "--option", "-o", metavar="KEY=VALUE",
            help="A collector option, repeatable. vk_search: query (required), overlap_s; web: format (rss|html), "
                 "item (required for html), link, title, summary, date (CSS selectors); replay: page_lines.")) -> None:
    """Add a source to the database (the sources file can add them too; ops' switches are kept).

    Negative VK owner ids go after `--`.
    Example: tsur sources add --kind госпаблик --home-municipality "городской округ Ялта" vk_wall -- -12345678
    Example: tsur sources add vk_search yalta --option query="Ялта отключение"
    Example: tsur sources add --kind web web https://yalta.rk.gov.ru/news -o format=html -o item=.news-item
    """
    st = state(ctx)
    if type_ not in TYPES:
        raise ValueError(f"unknown source type {type_!r}: use one of {', '.join(TYPES)}")
    if kind not in KINDS:
        raise ValueError(f"unknown kind {kind!r}: use one of {', '.join(KINDS)}")
    options = parse_options(type_, option or [])
    if type_ == "web" and not re.fullmatch(r"https?://[^\s/?#]+([/?#]\S*)?", handle):
        raise ValueError(f"a web source needs an http(s) URL, not {handle!r} (e.g. https://yalta.rk.gov.ru/news)")
    if type_ == "replay":
        from collectors.replay_paths import replay_path

        replay_path(handle, st.settings)  # ValueError (one line) outside replay_dirs
    if home_municipality:  # short names («Ялта») as in filters, imports and corrections
        home_municipality = st.places.municipality(home_municipality) or home_municipality
    from tsur.pipeline import home_municipalities

    homes = home_municipalities(st.settings)  # what the geo analyser accepts, as for the sources file
    if home_municipality and home_municipality not in homes:
        raise ValueError(f"unknown municipality {home_municipality!r}{did_you_mean(home_municipality, homes)}: "
                         f"see {st.settings.regions_dir / st.settings.region / 'places.csv'}")
    key = source_key(type_, handle)
    with st.sessions.begin() as s:
        if s.scalar(sa.select(Source.id).where(Source.key == key)) is not None:
            raise ValueError(f"source {key} already exists")
        s.add(Source(key=key, platform=TYPES[type_][0], handle=handle, kind=kind, home_municipality=home_municipality,
                     interval_s=interval, options={"type": type_, **options}, enabled=True))
    say(st, f"added {key}", {"key": key})


@app.command("list")
def list_sources(ctx: typer.Context) -> None:
    """List sources with their switch, interval and last success.

    Example: tsur --json sources list
    """
    st = state(ctx)
    with st.sessions() as s:
        rows = [queries.row_dict(r, "lease_owner", "lease_until", "options")
                for r in s.scalars(sa.select(Source).order_by(Source.key))]
    print_rows(st, rows, {"key": "Key", "kind": "Kind", "enabled": "On", "interval_s": "Every s",
                          "home_municipality": "Home", "last_success_at": "Last success",
                          "disabled_reason": "Disabled because"}, title="Sources", widths={"disabled_reason": 40},
               empty="no sources: add one with `tsur sources add` or a sources file")


def _switch(ctx: typer.Context, key: str, on: bool, reason: str | None) -> None:
    st = state(ctx)
    with st.sessions.begin() as s:
        row = _get(s, key)
        row.enabled = on
        row.disabled_reason = None if on else f"{reason} ({st.actor})"
        if on:
            row.consecutive_errors, row.not_before = 0, None
    say(st, f"{'enabled' if on else 'disabled'} {key}", {"key": key, "enabled": on})


@app.command("enable")
def enable(ctx: typer.Context, key: str = typer.Argument(..., help="Source key, e.g. vk:wall:-123.")) -> None:
    """Switch a source on (and forget its error streak and any pause its API asked for).

    Example: tsur sources enable tg:channel:crimea_news
    """
    _switch(ctx, key, True, None)


@app.command("disable")
def disable(ctx: typer.Context, key: str = typer.Argument(..., help="Source key, e.g. vk:wall:-123."),
            reason: str = typer.Option(..., "--reason", "-r", help="Why it is switched off.")) -> None:
    """Switch a source off; the daemon stops polling it.

    Example: tsur sources disable vk:wall:-123 --reason "group closed"
    """
    _switch(ctx, key, False, reason)


@app.command("health")
def health(ctx: typer.Context,
           silent_factor: float = typer.Option(3.0, "--silent-factor",
                                               help="Flag sources with no success for this many intervals."),
           no_new_hours: Optional[float] = typer.Option(
               None, "--no-new-hours", min=0,
               help="Flag sources that stored no new item for this many hours (default: source_silent_after_s; "
                    "0 = off).")) -> None:
    """Source health: last success, lags, since the last new item, error streak, last error, rate-limit waits,
    items in 24 h, silence (no successful poll, or polls that bring nothing new).

    Example: tsur sources health --silent-factor 5 --no-new-hours 12
    """
    st = state(ctx)
    no_new_after_s = st.settings.source_silent_after_s if no_new_hours is None else no_new_hours * 3600
    with st.sessions() as s:
        rows = queries.source_health(s, now=utcnow(), silent_factor=silent_factor, no_new_after_s=no_new_after_s)
    if not st.json:
        for r in rows:
            r["since_success"] = human_seconds(r["since_success_s"])
            r["content_lag"] = human_seconds(r["content_lag_s"])
            r["since_new_item"] = human_seconds(r["since_new_item_s"])
            r["flag"] = f"SILENT: {r['silent_reason']}" if r["silent"] else ("off" if not r["enabled"] else "")
    print_rows(st, rows, {"key": "Key", "flag": "Flag", "since_success": "Since success",
                          "since_new_item": "Since new item", "content_lag": "Newest item",
                          "consecutive_errors": "Errors", "last_error": "Last error",
                          "items_24h": "Items 24h", "requests_24h": "Requests 24h", "waits_24h_s": "Waits 24h s"},
               title="Source health", widths={"last_error": 40}, empty="no sources")
