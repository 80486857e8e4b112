"""Polite pacing and bounded retries with an injectable clock, so tests and benches never really wait."""
from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

from collectors import hooks

T = TypeVar("T")


@dataclass(eq=False)
class Clock:
    """Wall clock by default; tests and the bench pass a SimulatedClock instead."""

    now: Callable[[], float] = time.monotonic
    sleep: Callable[[float], None] = hooks.sleep  # time.sleep that a stopping daemon cuts short


WALL_CLOCK = Clock()  # the one real clock, so limiters keyed by token or host are shared in production


class SimulatedClock(Clock):
    """A clock whose sleep only advances its own time. Example: c.sleep(2); c.now() == 2.0."""

    def __init__(self, start: float = 0.0):
        self.t = start
        super().__init__(now=lambda: self.t, sleep=self._advance)

    def _advance(self, seconds: float) -> None:
        self.t += max(0.0, seconds)


@dataclass
class RateLimiter:
    """At most `rate` calls per second, spaced evenly (plus `slack_s`); `wait()` returns the seconds it slept."""

    rate: float
    clock: Clock = WALL_CLOCK
    slack_s: float = 0.0  # extra spacing so network jitter cannot bunch calls at the server
    _next: float = 0.0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def wait(self) -> float:
        """Sleep until the next call is allowed and book the slot after it."""
        if self.rate <= 0:
            return 0.0
        with self._lock:
            now = self.clock.now()
            slept = max(0.0, self._next - now)
            if slept:
                self.clock.sleep(slept)
                hooks.waited("pacing", slept)
            self._next = max(now, self._next) + 1.0 / self.rate + self.slack_s
            return slept


_SHARED: dict[str, RateLimiter] = {}
_SHARED_LOCK = threading.Lock()


def shared_limiter(key: str, rate: float, clock: Clock | None = None, slack_s: float = 0.0) -> RateLimiter:
    """One limiter per key (a token's fingerprint, a web host) for the whole process."""
    with _SHARED_LOCK:
        limiter = _SHARED.get(key)
        if limiter is None or limiter.rate != rate or (clock is not None and limiter.clock is not clock):
            limiter = _SHARED[key] = RateLimiter(rate, clock or WALL_CLOCK, slack_s)
        return limiter


@dataclass
class Backoff:
    """Exponential back-off: `attempts` tries, sleeping base, 2*base, … (capped) between them."""

    attempts: int = 4
    base_s: float = 1.0
    cap_s: float = 30.0

    def delays(self) -> list[float]:
        """The sleeps between attempts. Example: Backoff(3, 1).delays() == [1.0, 2.0]."""
        return [min(self.cap_s, self.base_s * 2**i) for i in range(self.attempts - 1)]


def retry(call: Callable[[], T], *, is_transient: Callable[[Exception], float | None], backoff: Backoff,
          clock: Clock, on_wait: Callable[[float], None] = lambda s: None, max_wait_s: float | None = None) -> T:
    """Run `call`; on an error `is_transient` accepts (returns a minimum delay), sleep and try again.

    The last error propagates once the attempts are spent, or as soon as the next pause would take the
    seconds slept past `max_wait_s` (a server asking for a day's pause); other errors propagate at once.
    """
    waited = 0.0
    for delay in [*backoff.delays(), None]:
        try:
            return call()
        except Exception as exc:  # noqa: BLE001 - classification is the caller's
            hint = is_transient(exc)
            if hint is None or delay is None:
                raise
            pause = max(delay, hint)
            if max_wait_s is not None and waited + pause > max_wait_s:
                raise
            clock.sleep(pause)
            hooks.retried(exc, pause)
            on_wait(pause)
            waited += pause
    raise AssertionError("unreachable")
