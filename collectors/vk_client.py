"""A paced, classified VK API client over `vk_api.VkApi`, with execute batching and a pluggable endpoint.

vk_api posts to a fixed https://api.vk.ru/method/; `RebasedSession` redirects that prefix to
`api_base` (a loopback fake in tests). vk_api's own pacing (RPS_DELAY sleep) and its error-6 handler
(sleep 0.5 s and retry for ever) are switched off: one shared limiter per token paces all collectors,
and `retry` backs off a bounded number of times, so waits are counted and a poll cannot loop.
vk_api's captcha handler is switched off too (it builds `Captcha` from captcha_sid and captcha_img and
fails with a KeyError on an error without them): error 14 comes through as an ApiError, reported as
Retriable(code=14) without retrying.
"""
from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass, field
from typing import Any

import requests
import vk_api
from vk_api.exceptions import CAPTCHA_ERROR_CODE, TOO_MANY_RPS_CODE, ApiError, ApiHttpError, Captcha
from vk_api.utils import sjson_dumps

from collectors import hooks
from collectors.base import CallStats
from collectors.errors import Fatal, Retriable
from collectors.ratelimit import WALL_CLOCK, Backoff, Clock, retry, shared_limiter

log = logging.getLogger(__name__)

VK_BASE = "https://api.vk.ru/method/"
API_VERSION = "5.199"
TRANSIENT_CODES = {6, 9, 10, 29}  # too many rps, flood control, internal error, rate limit reached
FATAL_CODES = {5, 15, 18, 30, 203}  # auth failed, access denied, deleted/banned, private profile, group closed
CAPTCHA_CODE = 14
EXECUTE_LIMIT = 25
JITTER_SLACK_S = 0.01  # 3 req/s becomes one call per 0.343 s, as vk_api's own RPS_DELAY of 0.34 s


class RebasedSession(requests.Session):
    """A requests session that sends VK method calls to `api_base` and applies a default timeout."""

    def __init__(self, api_base: str | None, timeout: float, user_agent: str):
        super().__init__()
        self.api_base = api_base.rstrip("/") + "/" if api_base else None
        self.timeout = timeout
        self.headers["User-Agent"] = user_agent

    def request(self, method, url, *args, **kwargs):
        if self.api_base and isinstance(url, str) and url.startswith(VK_BASE):
            url = self.api_base + url[len(VK_BASE):]
        kwargs.setdefault("timeout", self.timeout)
        return super().request(method, url, *args, **kwargs)


def transient_delay(exc: Exception) -> float | None:
    """0.0 for errors worth retrying after a back-off (VK 6/9/10/29, HTTP 5xx, timeouts), else None."""
    if isinstance(exc, ApiError) and not isinstance(exc, Captcha) and exc.code in TRANSIENT_CODES:
        return 0.0
    if isinstance(exc, ApiHttpError) and exc.response.status_code >= 500:
        return 0.0
    if isinstance(exc, (requests.Timeout, requests.ConnectionError, requests.JSONDecodeError)):
        return 0.0
    return None


def classify(exc: Exception, where: str) -> Exception:
    """The collector error for a vk_api/requests failure; messages never include the token."""
    if isinstance(exc, Captcha) or (isinstance(exc, ApiError) and exc.code == CAPTCHA_CODE):
        log.warning("%s: VK asks for a captcha (error 14); not retrying in this poll", where)
        return Retriable(f"{where}: VK captcha required (error 14)", code=CAPTCHA_CODE)
    if isinstance(exc, ApiError):
        message = f"{where}: VK error {exc.code}: {exc.error.get('error_msg', '')}"
        if exc.code in FATAL_CODES:
            return Fatal(message, code=exc.code)
        return Retriable(message, code=exc.code)
    if isinstance(exc, ApiHttpError):
        return Retriable(f"{where}: VK HTTP {exc.response.status_code}", code=f"http_{exc.response.status_code}")
    return Retriable(f"{where}: VK request failed: {type(exc).__name__}", code="network")


def is_error(outcome: Any) -> bool:
    """True for a failed call's entry in `execute_once` results."""
    return isinstance(outcome, dict) and "error_code" in outcome and "items" not in outcome


def error_from_dict(error: dict, method: str, where: str) -> Exception:
    """The collector error for one failed call inside `execute` (an execute_errors entry)."""
    code = error.get("error_code")
    message = f"{where}: VK error {code} in {method}: {error.get('error_msg', '')}"
    if code == CAPTCHA_CODE:
        log.warning("%s: VK asks for a captcha (error 14); not retrying in this poll", where)
    return Fatal(message, code=code) if code in FATAL_CODES else Retriable(message, code=code)


@dataclass
class VkClient:
    """Paced VK calls: `call(method, values)` and `execute([(method, values), …])`."""

    token: str
    api_base: str | None = None
    rate: float = 3.0
    clock: Clock = WALL_CLOCK
    backoff: Backoff = field(default_factory=Backoff)
    timeout: float = 20.0
    user_agent: str = "tsur-monitor"
    stats: CallStats = field(default_factory=CallStats)

    def __post_init__(self):
        self.api = vk_api.VkApi(token=self.token, api_version=API_VERSION,
                                session=RebasedSession(self.api_base, self.timeout, self.user_agent))
        self.api.RPS_DELAY = 0  # pacing is ours (shared per token)
        self.api.error_handlers.pop(TOO_MANY_RPS_CODE, None)  # error 6 goes through our bounded back-off
        self.api.error_handlers.pop(CAPTCHA_ERROR_CODE, None)  # error 14 is reported, never solved
        fingerprint = hashlib.sha256(self.token.encode()).hexdigest()[:12]
        self.limiter_key = f"vk:{fingerprint}:{self.api_base}"
        self.limiter = shared_limiter(self.limiter_key, self.rate, self.clock, JITTER_SLACK_S)

    def _once(self, method: str, values: dict[str, Any], raw: bool) -> Any:
        self.stats.waits += self.limiter.wait()
        self.stats.requests += 1
        return self.api.method(method, values, raw=raw)

    def _on_wait(self, seconds: float) -> None:
        self.stats.waits += seconds

    def call(self, method: str, values: dict[str, Any], where: str, raw: bool = False) -> Any:
        """One API call with back-off on transient errors; raises Retriable/Fatal."""
        try:
            return retry(lambda: self._once(method, values, raw), is_transient=transient_delay,
                         backoff=self.backoff, clock=self.clock, on_wait=self._on_wait)
        except (vk_api.VkApiError, requests.RequestException) as exc:
            raise classify(exc, where) from None

    def execute(self, calls: list[tuple[str, dict[str, Any]]], where: str,
                skip_codes: frozenset[int] = frozenset()) -> list[Any]:
        """Results of many calls, up to 25 per `execute`; per-call transient errors are retried.

        A call failing with a code in `skip_codes` (an error about that one call's object, e.g. one post's
        closed comments) comes back as its error dict (see `is_error`) instead of failing them all.
        """
        results: list[Any] = [None] * len(calls)
        pending = list(range(len(calls)))
        for delay in [*self.backoff.delays(), None]:
            failed: list[tuple[int, dict]] = []
            for start in range(0, len(pending), EXECUTE_LIMIT):
                chunk = pending[start:start + EXECUTE_LIMIT]
                for index, outcome in zip(chunk, self.execute_once([calls[i] for i in chunk], where, skip_codes)):
                    if is_error(outcome) and outcome.get("error_code") not in skip_codes:
                        failed.append((index, outcome))
                    else:
                        results[index] = outcome
            hard = [(i, e) for i, e in failed if e.get("error_code") not in TRANSIENT_CODES]
            if hard or (failed and delay is None):
                index, error = (hard or failed)[0]
                raise error_from_dict(error, calls[index][0], where)
            if not failed:
                return results
            pending = [i for i, _ in failed]
            self.clock.sleep(delay)
            hooks.retried(failed[0][1].get("error_code"), delay, errors=len(failed))
            self._on_wait(delay)
        return results

    def execute_once(self, calls: list[tuple[str, dict[str, Any]]], where: str,
                     skip_codes: frozenset[int] = frozenset()) -> list[Any]:
        """One request for up to 25 calls; a failed call comes back as its error dict (see `is_error`)."""
        if len(calls) == 1:  # a plain call is as cheap and keeps the method's own envelope
            method, values = calls[0]
            try:
                return [self.call(method, values, where)]
            except (Fatal, Retriable) as exc:
                if exc.code not in skip_codes:
                    raise
                return [{"error_code": exc.code, "error_msg": str(exc)}]
        code = "return [" + ",".join(f"API.{m}({sjson_dumps(v)})" for m, v in calls) + "];"
        raw = self.call("execute", {"code": code}, where, raw=True)
        errors = iter(raw.get("execute_errors") or [])
        return [next(errors, {"error_code": 1, "error_msg": "unknown"}) if r is False else r
                for r in raw["response"]]
