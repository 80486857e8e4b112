"""Quarantined records: list them, count them by source and reason class, mark them retried or dropped.

A row is `open` until an operator retries it successfully (`retried`, with the item it became) or dismisses it
(`dropped`, with why); both record who and when. Example: list_records(s, source="vk:wall:-1", limit=20).
"""
from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from storage.sanitize import clean_text
from storage.tables import QuarantineRecord, utcnow

STATUSES = ("open", "retried", "dropped")
FILE_LINE = re.compile(r"^[^\s:]+:\d+: ")  # a replay file's `name.jsonl:12: `
_RECORD = re.compile(r"^(vk_post|vk_comment|tg_message|web_entry|raw_item) [^:]*: ")  # `vk_post 42: `
_QUOTED = re.compile(r"'[^']*'|\"[^\"]*\"")
_NUMBER = re.compile(r"\d+")


def reason_class(reason: str, width: int = 60) -> str:
    """A reason without its file, line, record id, quoted values and numbers, to count alike problems together.

    Example: reason_class("feed.jsonl:7: vk_post 42: item_id is 300 characters, over 128")
             == "vk_post: item_id is N characters, over N"
    """
    text = FILE_LINE.sub("", " ".join(reason.split()))
    record = _RECORD.match(text)
    if record:
        text = f"{record.group(1)}: {text[record.end():]}"
    text = _NUMBER.sub("N", _QUOTED.sub("'…'", text))
    return text if len(text) <= width else text[: width - 1] + "…"


def new_reason(old: str, reason: str) -> str:
    """The reason a retried record is refused with now, keeping where it came from (a replay file's line).

    Example: new_reason("x.jsonl:2: raw_item: old", "raw_item: new") == "x.jsonl:2: raw_item: new"
    """
    where = FILE_LINE.match(old)
    return clean_text((where.group(0) if where else "") + " ".join(reason.split()))


def _filtered(query, *, source: str | None, since: datetime | None, status: str | None):
    if source is not None:
        query = query.where(QuarantineRecord.source == source)
    if since is not None:
        query = query.where(QuarantineRecord.created_at >= since)
    if status is not None:
        query = query.where(QuarantineRecord.status == status)
    return query


def list_records(session: Session, *, source: str | None = None, since: datetime | None = None,
                 status: str | None = "open", limit: int | None = 50) -> list[QuarantineRecord]:
    """The newest quarantined records first; `status=None` for every status."""
    query = _filtered(sa.select(QuarantineRecord), source=source, since=since, status=status)
    return list(session.scalars(query.order_by(QuarantineRecord.id.desc()).limit(limit)))


def summary(session: Session, *, source: str | None = None, since: datetime | None = None,
            status: str | None = "open") -> list[dict]:
    """How many records per source and reason class (most first), over every record the filters match."""
    query = sa.select(QuarantineRecord.source, QuarantineRecord.reason, sa.func.count())
    query = _filtered(query, source=source, since=since, status=status)
    counts: Counter[tuple[str, str]] = Counter()
    for key, reason, n in session.execute(query.group_by(QuarantineRecord.source, QuarantineRecord.reason)):
        counts[(key, reason_class(reason))] += n
    return [{"source": key, "reason_class": cls, "count": n}
            for (key, cls), n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))]


def get_record(session: Session, record_id: int, *, lock: bool = False) -> QuarantineRecord:
    """One quarantined record, or KeyError naming it (locked for update with `lock`)."""
    query = sa.select(QuarantineRecord).where(QuarantineRecord.id == record_id)
    row = session.scalar(query.with_for_update() if lock else query)
    if row is None:
        raise KeyError(f"no quarantined record {record_id} (see `tsur quarantine list`)")
    return row


def open_ids(session: Session, *, source: str | None = None) -> list[int]:
    """The ids of the open records (of one source), oldest first."""
    query = _filtered(sa.select(QuarantineRecord.id), source=source, since=None, status="open")
    return list(session.scalars(query.order_by(QuarantineRecord.id)))


def resolve(row: QuarantineRecord, status: str, actor: str, resolution: str, now: datetime | None = None) -> None:
    """Mark a record retried or dropped, by whom, when and with what result."""
    if status not in STATUSES[1:]:
        raise ValueError(f"unknown resolution {status!r}: use retried or dropped")
    row.status, row.resolved_at = status, now or utcnow()
    row.resolved_by, row.resolution = clean_text(actor)[:128], clean_text(resolution)


def drop_records(session: Session, ids: Iterable[int], actor: str, reason: str,
                 now: datetime | None = None) -> dict[str, list[int]]:
    """Dismiss open records (an operator decided they need no retry); ids already closed are left as they are."""
    done: dict[str, list[int]] = {"dropped": [], "not_open": []}
    for record_id in ids:
        row = get_record(session, record_id, lock=True)
        if row.status != "open":
            done["not_open"].append(record_id)
            continue
        resolve(row, "dropped", actor, reason, now)
        done["dropped"].append(record_id)
    return done
