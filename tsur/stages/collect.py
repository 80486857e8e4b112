"""Collect stage: poll one source, storing each page together with its cursor in one transaction."""
from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import closing
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session, sessionmaker

from collectors.base import Collector, unreported
from collectors.errors import Fatal, NotConfigured, Retriable
from storage.items import SaveResult, load_cursor, save_page
from storage.runs import record_run
from storage.sources import (defer_source, disable_source, is_deferred, lease_source, mark_error, mark_success,
                             release_source)
from storage.tables import Source, utcnow
from tsur.limits import MAX_TEXT_CHARS, cap_page
from tsur.records import Page

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class CollectOutcome:
    """How one poll of one source ended."""

    source: str
    status: str  # ok | retry | disabled | leased_elsewhere | lease_lost | deferred
    pages: int = 0
    new: int = 0
    updated: int = 0
    quarantined: int = 0
    requests: int = 0
    waits: float = 0.0
    error: str | None = None
    code: str | None = None  # error code (VK error number, HTTP status, exception name)


class LeaseLost(Exception):
    """Our lease ran out and another daemon took the source, or the source was disabled meanwhile."""


def _source_id(sessions: sessionmaker[Session], key: str) -> int:
    with sessions() as s:
        source_id = s.scalar(sa.select(Source.id).where(Source.key == key))
    if source_id is None:
        raise KeyError(f"unknown source {key!r}: add it to the sources file or with `tsur sources add`")
    return source_id


def collect_source(sessions: sessionmaker[Session], source_key: str, collector: Collector, *, worker: str,
                   run_id: str | None = None, ttl_s: float = 600.0, max_pages: int | None = None,
                   max_text_chars: int = MAX_TEXT_CHARS) -> CollectOutcome:
    """Lease the source, resume from its cursor, store pages; classify errors per the taxonomy.

    Every item's text is capped at `max_text_chars` before it is stored (tsur.limits; its raw stays whole).

    A source whose API asked for a pause (Retriable.retry_after) is not polled before it ends ("deferred").
    """
    source_id = _source_id(sessions, source_key)
    with sessions.begin() as s:
        source = s.get(Source, source_id)
        if is_deferred(source):
            return CollectOutcome(source_key, "deferred", error=f"paused until {source.not_before:%Y-%m-%d %H:%M} UTC")
        if not lease_source(s, source_id, worker, ttl_s):
            return CollectOutcome(source_key, "leased_elsewhere")
        source.last_attempt_at = utcnow()
    totals = dict(pages=0, new=0, updated=0, quarantined=0, requests=0, waits=0.0)
    with record_run(sessions, "collect", worker=worker, run_id=run_id, source=source_key) as run:
        try:
            with sessions() as s:
                cursor = load_cursor(s, source_id)
            with closing(_pages(collector, cursor, totals)) as pages:
                for page in pages:
                    totals["requests"] += page.requests  # spent even if the page cannot be stored
                    totals["waits"] += page.waits
                    saved = _store(sessions, source_id, _capped(source_key, page, max_text_chars), worker, ttl_s)
                    totals["pages"] += 1
                    totals["new"] += saved.new
                    totals["updated"] += saved.updated
                    totals["quarantined"] += saved.quarantined
                    if max_pages and totals["pages"] >= max_pages:
                        break
            outcome = CollectOutcome(source_key, "ok", **totals)
            with sessions.begin() as s:
                mark_success(s.get(Source, source_id))
        except LeaseLost:
            outcome = _lease_lost(source_key, totals)
        except Retriable as exc:
            outcome = _fail(sessions, source_id, source_key, totals, exc, disable=False)
        except (Fatal, NotConfigured) as exc:
            outcome = _fail(sessions, source_id, source_key, totals, exc, disable=True)
        except Exception as exc:  # a bug or an unforeseen failure: keep progress, retry next time
            log.exception("source %s failed unexpectedly", source_key)
            outcome = _fail(sessions, source_id, source_key, totals, exc, disable=False)
        finally:
            with sessions.begin() as s:
                release_source(s, source_id, worker)
        run.add(**totals)
        run.status = "ok" if outcome.status == "ok" else "error"
        run.error = outcome.error
    return outcome


def _pages(collector: Collector, cursor: dict | None, totals: dict) -> Iterator[Page]:
    """The collector's pages; on the way out (done, stopped or failed) what it spent after its last page
    joins `totals`, so a failed poll's requests and waits reach the outcome, the run row and the metrics."""
    try:
        yield from collector.fetch(cursor)
    finally:
        requests, waits = unreported(collector)
        totals["requests"] += requests
        totals["waits"] += waits


def _capped(key: str, page: Page, max_text_chars: int) -> Page:
    """The page with its items' texts capped; a count (no text) is logged when some were cut."""
    page, cut = cap_page(page, max_text_chars)
    if cut:
        log.warning("source %s: %d item text(s) longer than max_text_chars=%d cut (raw kept whole)",
                    key, cut, max_text_chars)
    return page


def _store(sessions: sessionmaker[Session], source_id: int, page: Page, worker: str, ttl_s: float) -> SaveResult:
    """Renew our lease, then store the page and its cursor, in one transaction; LeaseLost rolls the page back."""
    with sessions.begin() as s:
        if not lease_source(s, source_id, worker, ttl_s):
            raise LeaseLost
        return save_page(s, s.get(Source, source_id), page)


def _lease_lost(key: str, totals: dict) -> CollectOutcome:
    message = "lease lost (another daemon took the source, or it was disabled); the last page was not stored"
    log.warning("source %s: %s; poll stopped after %d pages", key, message, totals["pages"])
    return CollectOutcome(key, "lease_lost", error=message, code="lease_lost", **totals)


def _fail(sessions, source_id: int, key: str, totals: dict, exc: Exception, *, disable: bool) -> CollectOutcome:
    code = getattr(exc, "code", None)
    message = f"{exc.__class__.__name__}{f' {code}' if code is not None else ''}: {str(exc).splitlines()[0] if str(exc) else ''}"
    retry_after = getattr(exc, "retry_after", None)
    with sessions.begin() as s:
        source = s.get(Source, source_id)
        (disable_source if disable else mark_error)(source, message)
        if retry_after and not disable:
            defer_source(source, retry_after)
    if disable:
        log.error("source %s disabled: %s", key, message)
    else:
        log.warning("source %s will retry%s: %s (progress kept: %d pages)", key,
                    f" after {retry_after:.0f} s" if retry_after else "", message, totals["pages"])
    return CollectOutcome(key, "disabled" if disable else "retry", error=message,
                          code=str(code) if code is not None else exc.__class__.__name__, **totals)
