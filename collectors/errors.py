"""One error taxonomy for every collector; the runner acts on the class, not the message."""
from __future__ import annotations


class CollectorError(Exception):
    """Base of collector errors."""


class Retriable(CollectorError):
    """A passing failure (rate limit, 5xx, timeout): back off, retry later; progress is kept."""

    def __init__(self, message: str, *, code: str | int | None = None, retry_after: float | None = None):
        super().__init__(message)
        self.code = code
        self.retry_after = retry_after


class Fatal(CollectorError):
    """The source cannot work until a human acts (bad token, no access): disable that source only."""

    def __init__(self, message: str, *, code: str | int | None = None):
        super().__init__(message)
        self.code = code


class NotConfigured(CollectorError):
    """A required setting or secret is missing: the source is switched off with one log line."""


class SkipItem(CollectorError):
    """One record is malformed: quarantine it and go on with the rest."""
