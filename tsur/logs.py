"""Logging: plain or JSON lines, each with the run id; secrets are masked in messages and tracebacks (tsur.masking).

Database errors in tracebacks keep only their first line: the rest (SQL parameters, PostgreSQL's DETAIL
with the conflicting values) may hold complaint texts, URLs and raw payloads.
"""
from __future__ import annotations

import contextvars
import json
import logging
import sys
import traceback
from datetime import datetime, timezone

from tsur.masking import mask, register_secrets

run_id_var: contextvars.ContextVar[str] = contextvars.ContextVar("run_id", default="-")


class RunId(logging.Filter):
    """Stamp each record with the current run id."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.run_id = run_id_var.get()
        return True


DB_MODULES = frozenset({"sqlalchemy", "psycopg", "psycopg2", "sqlite3", "_sqlite3"})
ELIDED = " [details elided: they may hold personal data]"


def is_db_error(exc: BaseException) -> bool:
    """An error raised by SQLAlchemy or a database driver. Example: is_db_error(sqlite3.IntegrityError()) is True."""
    return type(exc).__module__.split(".")[0] in DB_MODULES


def _elide(te: traceback.TracebackException, exc: BaseException | None, seen: set[int]) -> None:
    """Cut the messages of database errors in a traceback (and its causes) to their first line."""
    while te is not None and exc is not None and id(te) not in seen:
        seen.add(id(te))
        if is_db_error(exc):
            first = (te._str or "").split("\n", 1)[0]
            te._str = first + ELIDED if first != te._str else first
        if te.__cause__ is not None:
            _elide(te.__cause__, exc.__cause__, seen)
        te, exc = te.__context__, exc.__context__


def format_exception(exc_info) -> str:
    """A traceback like logging's, with the messages of database errors cut to their first line."""
    te = traceback.TracebackException(*exc_info, compact=True)
    _elide(te, exc_info[1], set())
    return "".join(te.format()).rstrip("\n")


class MaskedFormatter(logging.Formatter):
    """Plain lines with secrets masked in the whole output: message, traceback and stack."""

    def formatException(self, ei) -> str:
        return format_exception(ei)

    def format(self, record: logging.LogRecord) -> str:
        return mask(super().format(record))


class JsonFormatter(logging.Formatter):
    """One JSON object a line; message and traceback masked."""

    def formatException(self, ei) -> str:
        return format_exception(ei)

    def format(self, record: logging.LogRecord) -> str:
        data = {
            "ts": datetime.fromtimestamp(record.created, timezone.utc).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "run_id": getattr(record, "run_id", "-"),
            "msg": mask(record.getMessage()),
        }
        if record.exc_info:
            data["exc"] = mask(self.formatException(record.exc_info))
        if record.stack_info:
            data["stack"] = mask(self.formatStack(record.stack_info))
        return json.dumps(data, ensure_ascii=False)


def settings_secrets(settings) -> list[str]:
    """The plain values of every configured secret, for tsur.masking."""
    from tsur.settings import SECRET_FIELDS

    return [settings.secret(name) or "" for name in SECRET_FIELDS]


def setup_logging(level: str = "INFO", fmt: str = "text", secrets: list[str] | None = None) -> None:
    """Configure the root logger once (idempotent)."""
    register_secrets(secrets or [])
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(RunId())
    if fmt == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(MaskedFormatter("%(asctime)s %(levelname)s %(name)s [%(run_id)s] %(message)s"))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level.upper())
    for noisy in ("apscheduler", "telethon", "urllib3", "alembic", "pymorphy3", "natasha", "slovnet"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))
