"""What a poll tells the daemon as it happens (retried API errors, pauses) and what the daemon tells it (stop).

The pipeline binds each poll with `polling(source, sink=…, stop=…)`. Collectors report every API error
they back off from and retry with `retried(error, seconds)` and every pacing pause with `waited(reason,
seconds)`; their sleeps go through `sleep` / `async_sleep`, which end at once with `Stopping` (a
Retriable: stored pages and the cursor are kept) when the bound stop event is set. Outside a poll
(unit tests, `tsur run collect`) reporting does nothing and sleeping is a plain sleep.
"""
from __future__ import annotations

import asyncio
import contextvars
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Protocol

from collectors.errors import Retriable

ASYNC_SLICE_S = 0.5  # an async sleep looks at the stop event this often


class Sink(Protocol):
    """Where a poll's events go (tsur.metrics.PipelineMetrics)."""

    def api_retry(self, source: str, code: str, seconds: float, errors: int = 1) -> None:
        ...

    def api_wait(self, source: str, code: str, seconds: float) -> None:
        ...


@dataclass(frozen=True)
class _Poll:
    source: str
    sink: Sink | None
    stop: threading.Event | None


_poll: contextvars.ContextVar[_Poll | None] = contextvars.ContextVar("collector_poll", default=None)


class Stopping(Retriable):
    """The daemon is shutting down: the poll ends at its next pause instead of sleeping through it."""

    def __init__(self):
        super().__init__("poll cut short: the daemon is stopping", code="stopping")


@contextmanager
def polling(source: str, *, sink: Sink | None = None, stop: threading.Event | None = None) -> Iterator[None]:
    """Report this thread's collector events for `source` to `sink`; sleeps end when `stop` is set."""
    token = _poll.set(_Poll(source, sink, stop))
    try:
        yield
    finally:
        _poll.reset(token)


def code_of(error: object) -> str:
    """A short label: a code as given, an error's `code`, `http_<status>`, else the exception's name.

    Example: code_of(6) == "6"; code_of(ApiHttpError with a 502 response) == "http_502".
    """
    if isinstance(error, (str, int)):
        return str(error)
    code = getattr(error, "code", None)
    if code is not None:
        return str(code)
    status = getattr(error, "status", None) or getattr(getattr(error, "response", None), "status_code", None)
    return f"http_{status}" if status else type(error).__name__


def retried(error: object, seconds: float, errors: int = 1) -> None:
    """`errors` failed API calls (of `error`'s code) that the collector retries after pausing `seconds`."""
    poll = _poll.get()
    if poll is not None and poll.sink is not None:
        poll.sink.api_retry(poll.source, code_of(error), max(0.0, seconds), errors)


def waited(reason: str, seconds: float) -> None:
    """A pause that is not a retry (e.g. reason "pacing": the per-token or per-host rate limiter)."""
    poll = _poll.get()
    if seconds > 0 and poll is not None and poll.sink is not None:
        poll.sink.api_wait(poll.source, reason, seconds)


def _stop_event() -> threading.Event | None:
    poll = _poll.get()
    return poll.stop if poll is not None else None


def sleep(seconds: float) -> None:
    """time.sleep that ends early with Stopping when the poll's stop event is set."""
    stop = _stop_event()
    if stop is None:
        time.sleep(max(0.0, seconds))
    elif stop.is_set() or stop.wait(max(0.0, seconds)):
        raise Stopping


async def async_sleep(seconds: float) -> None:
    """asyncio.sleep that ends early (within ASYNC_SLICE_S) with Stopping when the stop event is set."""
    stop = _stop_event()
    if stop is None:
        await asyncio.sleep(max(0.0, seconds))
        return
    deadline = time.monotonic() + seconds
    while not stop.is_set():
        left = deadline - time.monotonic()
        if left <= 0:
            return
        await asyncio.sleep(min(left, ASYNC_SLICE_S))
    raise Stopping
