"""Small helpers the platform adapters share."""
from __future__ import annotations

from datetime import datetime, timezone

from collectors.errors import SkipItem

INT64_MAX = 2**63 - 1


def utc_from_unix(value) -> datetime:
    """A UTC datetime from Unix seconds. Example: utc_from_unix(0).year == 1970."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value < 253402300800:
        raise SkipItem(f"bad date {str(value)[:40]}")  # 253402300800: year 10000
    return datetime.fromtimestamp(value, tz=timezone.utc)


def utc_from_iso(value) -> datetime:
    """A UTC datetime from ISO 8601; naive values are taken as UTC."""
    if not isinstance(value, str) or not value:
        raise SkipItem(f"bad timestamp {value!r}")
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise SkipItem(f"bad timestamp {value!r}") from None
    return parsed.replace(tzinfo=timezone.utc) if parsed.tzinfo is None else parsed.astimezone(timezone.utc)


def require_int(payload: dict, key: str) -> int:
    """payload[key] as a 64-bit int, or SkipItem naming the key."""
    value = payload.get(key)
    if isinstance(value, bool) or not isinstance(value, int):
        raise SkipItem(f"missing or non-integer {key!r}")
    if abs(value) > INT64_MAX:
        raise SkipItem(f"{key!r} is outside 64 bits")
    return value


def join_text(*parts: str | None) -> str:
    """Non-empty parts, each once, joined by blank lines (keeps links and emoji as they are)."""
    seen, out = set(), []
    for part in parts:
        part = (part or "").strip()
        if part and part not in seen:
            seen.add(part)
            out.append(part)
    return "\n\n".join(out)
