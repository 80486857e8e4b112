"""Logging: plain or JSON lines, each with the run id; known secret values are masked in every record."""
from __future__ import annotations

import contextvars
import json
import logging
import sys
from datetime import datetime, timezone

run_id_var: contextvars.ContextVar[str] = contextvars.ContextVar("run_id", default="-")


class SecretMask(logging.Filter):
    """Replace any configured secret value that slips into a log message with ***."""

    def __init__(self, secrets: list[str]):
        super().__init__()
        self.secrets = [s for s in secrets if s and len(s) >= 4]

    def filter(self, record: logging.LogRecord) -> bool:
        record.run_id = run_id_var.get()
        if self.secrets:
            msg = record.getMessage()
            masked = msg
            for secret in self.secrets:
                masked = masked.replace(secret, "***")
            if masked != msg:
                record.msg, record.args = masked, None
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        data = {
            "ts": datetime.fromtimestamp(record.created, timezone.utc).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "run_id": getattr(record, "run_id", "-"),
            "msg": record.getMessage(),
        }
        if record.exc_info:
            data["exc"] = self.formatException(record.exc_info)
        return json.dumps(data, ensure_ascii=False)


def settings_secrets(settings) -> list[str]:
    """The plain values of every configured secret, for the masking filter."""
    from tsur.settings import SECRET_FIELDS

    return [settings.secret(name) or "" for name in SECRET_FIELDS]


def setup_logging(level: str = "INFO", fmt: str = "text", secrets: list[str] | None = None) -> None:
    """Configure the root logger once (idempotent)."""
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(SecretMask(secrets or []))
    if fmt == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s [%(run_id)s] %(message)s"))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level.upper())
    for noisy in ("apscheduler", "telethon", "urllib3", "alembic", "pymorphy3", "natasha", "slovnet"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))
