"""Printing for people (rich tables) or scripts (--json), and parsing of durations."""
from __future__ import annotations

import json
import re
from datetime import datetime, timedelta, timezone, tzinfo
from typing import Any

from rich.markup import escape
from rich.table import Table

from tsur.cli.state import State

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw])\s*$")
_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
# Terminal escapes (OSC hyperlinks and titles, CSI colours and cursor moves, other ESC sequences), control
# characters but newline and tab, C1 controls and bidi overrides: post text must not drive the terminal.
_ESCAPES = re.compile(r"\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?|\x1b\[[0-?]*[ -/]*[@-~]?|\x1b[ -/]*[0-~]?"
                      r"|[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
MAX_DURATION_DAYS = 36500  # 100 years: more than any data here is old, far from datetime's limits


def parse_duration(text: str | None) -> timedelta | None:
    """'90m', '12h', '3d', '1w' → timedelta, at most 100 years. Example: parse_duration("3d") == timedelta(days=3)."""
    if text is None:
        return None
    match = _DURATION.match(text)
    if not match:
        raise ValueError(f"bad duration {text!r}: use a number and s/m/h/d/w, e.g. 12h or 3d")
    seconds = float(match[1]) * _SECONDS[match[2]]
    if seconds > MAX_DURATION_DAYS * 86400:
        raise ValueError(f"duration {text.strip()!r} is too long: at most {MAX_DURATION_DAYS}d (100 years)")
    return timedelta(seconds=seconds)


def parse_when(text: str | None, now: datetime, tz: tzinfo) -> datetime:
    """A time for "as of": None → now, '+1d' → now + 1 day, '2026-12-07 18:00' → that time in `tz`, as UTC.

    Example: parse_when("+2h", now, tz) == now + timedelta(hours=2)
    """
    if text is None:
        return now
    if text.strip().startswith("+"):
        return now + parse_duration(text.strip()[1:])
    return _local_time(text, tz, f"bad time {text!r}: use +DURATION (e.g. +1d) or a date/time such as 2026-12-07 18:00")


def parse_since(text: str | None, now: datetime, tz: tzinfo) -> datetime | None:
    """A window's start: '7d' → now - 7 days, '2026-11-16' → that day's start in `tz`, as UTC; None → None.

    Example: parse_since("7d", now, tz) == now - timedelta(days=7)
    """
    if text is None or _DURATION.match(text):
        window = parse_duration(text)
        return None if window is None else now - window
    return _local_time(text, tz, f"bad --since {text!r}: use a duration (e.g. 7d) or a date such as 2026-11-16")


def _local_time(text: str, tz: tzinfo, error: str) -> datetime:
    """An ISO date or date/time, in `tz` unless it names its offset, as UTC; else ValueError(error)."""
    try:
        value = datetime.fromisoformat(text.strip())
    except ValueError:
        raise ValueError(error) from None
    return (value if value.tzinfo else value.replace(tzinfo=tz)).astimezone(timezone.utc)


def printable(text: str) -> str:
    """`text` without terminal escapes and control characters. Example: printable("\\x1b[31mred") == "red"."""
    return _ESCAPES.sub("", text)


def shown(text: str | None) -> str:
    """Text from posts, safe to print through rich: no escapes, and its [markup] shown, not applied."""
    return escape(printable(text or ""))


def plain(value: Any) -> Any:
    """A JSON-friendly value (datetimes as ISO 8601 with their UTC offset)."""
    if isinstance(value, datetime):
        return value.isoformat(timespec="seconds")
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    return value


def local_time(value: datetime, tz: tzinfo | None = None) -> str:
    """A (UTC) datetime in the region's time with its zone: '2026-12-02 13:00 MSK' for 10:00 UTC in Simferopol."""
    shown = (value if value.tzinfo else value.replace(tzinfo=timezone.utc)).astimezone(tz or timezone.utc)
    return f"{shown:%Y-%m-%d %H:%M} {shown.tzname()}"


def cell(value: Any, width: int | None = None, tz: tzinfo | None = None) -> str:
    """A short human form of a value for a rich table cell (datetimes in `tz`, default UTC, with the zone);
    texts without terminal escapes, their [markup] escaped."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return local_time(value, tz)
    if isinstance(value, float):
        return f"{value:.2f}".rstrip("0").rstrip(".")
    text = " ".join(printable(str(value)).split())
    return escape(text if width is None or len(text) <= width else text[: width - 1] + "…")


def human_seconds(seconds: float | None) -> str:
    """3725 → '1h 2m'."""
    if seconds is None:
        return "never"
    seconds = int(seconds)
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes = rest // 60
    parts = [f"{days}d"] * bool(days) + [f"{hours}h"] * bool(hours) + [f"{minutes}m"] * bool(minutes)
    return " ".join(parts[:2]) or f"{seconds}s"


def print_json(st: State, data: Any) -> None:
    """Machine-readable output on stdout."""
    st.console.file.write(json.dumps(plain(data), ensure_ascii=False, indent=2) + "\n")


def print_rows(st: State, rows: list[dict[str, Any]], columns: dict[str, str], *, title: str | None = None,
               widths: dict[str, int] | None = None, empty: str = "nothing to show") -> None:
    """Rows as JSON (every field) with --json, else a table of `columns` (key → header)."""
    if st.json:
        print_json(st, rows)
        return
    if not rows:
        st.console.print(empty)
        return
    table = Table(title=title)
    for header in columns.values():
        table.add_column(header)
    widths = widths or {}
    for row in rows:
        table.add_row(*(cell(row.get(key), widths.get(key), st.tz) for key in columns))
    st.console.print(table)


def say(st: State, message: str, data: Any = None) -> None:
    """A one-line result for people, or `data` as JSON with --json."""
    if st.json:
        print_json(st, data if data is not None else {"message": message})
    else:
        st.console.print(printable(message), highlight=False, markup=False)


_JSON_UNSAFE = re.compile(r"[\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def safe_json(value: Any) -> str:
    """Pretty JSON for a terminal: control characters, C1 controls and bidi overrides as \\u escapes (still JSON).

    Example: safe_json({"a": "\\x1b[31m"}) == '{\\n  "a": "\\\\u001b[31m"\\n}'
    """
    text = json.dumps(plain(value), ensure_ascii=False, indent=2)
    return _JSON_UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)
