"""Sources in the database: sync from config, lease for one daemon at a time, record health."""
from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session

from collectors.base import SourceConfig
from storage.tables import Source, utcnow
from tsur.masking import mask

log = logging.getLogger(__name__)
NOT_CONFIGURED = "not configured: "  # disabled_reason of a source switched off for a missing secret or file
IN_CONFIG = "disabled in config"

MAX_DEFER_S = 7 * 24 * 3600  # a pause asked for by an API is honoured up to a week


def sync_sources(session: Session, configs: list[SourceConfig],
                 configured: Callable[[SourceConfig], bool] | None = None) -> dict[str, int]:
    """Insert sources new in config and refresh descriptive fields; ops' enable/disable is kept.

    A source switched off in config (`enabled = false`) is disabled, and enabled again when config switches
    it back on; one an operator or a fatal error disabled stays off. With `configured` (can this source run
    now?), a source disabled as not configured (NOT_CONFIGURED: no token, replay file missing) is enabled
    again, with one log line, once it is.
    """
    existing = {s.key: s for s in session.scalars(sa.select(Source))}
    added = changed = 0
    for cfg in configs:
        row = existing.get(cfg.key)
        if row is None:
            session.add(
                Source(
                    key=cfg.key, platform=cfg.platform, handle=cfg.handle, kind=cfg.kind,
                    home_municipality=cfg.home_municipality, interval_s=cfg.interval_s,
                    options=dict(cfg.options), enabled=cfg.enabled,
                    disabled_reason=None if cfg.enabled else IN_CONFIG,
                )
            )
            added += 1
            continue
        fields = {
            "platform": cfg.platform, "handle": cfg.handle, "kind": cfg.kind,
            "home_municipality": cfg.home_municipality, "interval_s": cfg.interval_s,
            "options": dict(cfg.options),
        }
        if any(getattr(row, k) != v for k, v in fields.items()):
            for k, v in fields.items():
                setattr(row, k, v)
            changed += 1
        if not cfg.enabled and row.enabled:
            row.enabled, row.disabled_reason = False, IN_CONFIG
            changed += 1
        elif cfg.enabled and not row.enabled and row.disabled_reason == IN_CONFIG:
            row.enabled, row.disabled_reason = True, None
            log.info("source %s enabled: switched on in config again", row.key)
            changed += 1
    off_in_config = {cfg.key for cfg in configs if not cfg.enabled}
    for row in existing.values():
        if configured and not row.enabled and row.key not in off_in_config and _not_configured(row) \
                and configured(source_config(row)):
            log.info("source %s enabled again: it is configured now (was %s)", row.key, row.disabled_reason)
            row.enabled, row.disabled_reason, row.consecutive_errors = True, None, 0
            changed += 1
    session.flush()
    return {"added": added, "changed": changed}


def _not_configured(row: Source) -> bool:
    """Disabled for want of a secret or file (also as recorded before NOT_CONFIGURED: `<key>: …`, as last_error)."""
    reason = row.disabled_reason or ""
    return reason.startswith(NOT_CONFIGURED) or (reason.startswith(f"{row.key}: ") and reason == row.last_error)


def source_config(row: Source) -> SourceConfig:
    """The SourceConfig a collector is built from."""
    return SourceConfig(
        key=row.key, platform=row.platform, handle=row.handle, kind=row.kind,
        home_municipality=row.home_municipality, interval_s=row.interval_s,
        enabled=row.enabled, options=dict(row.options or {}),
    )


def lease_source(session: Session, source_id: int, owner: str, ttl_s: float, now: datetime | None = None) -> bool:
    """Take or renew the lease on an enabled source; False when another live daemon holds it."""
    now = now or utcnow()
    result = session.execute(
        sa.update(Source)
        .where(
            Source.id == source_id,
            Source.enabled.is_(True),
            sa.or_(Source.lease_until.is_(None), Source.lease_until < now, Source.lease_owner == owner),
        )
        .values(lease_owner=owner, lease_until=now + timedelta(seconds=ttl_s))
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1


def release_source(session: Session, source_id: int, owner: str) -> None:
    """Give up our lease so another daemon may take the source at once."""
    session.execute(
        sa.update(Source)
        .where(Source.id == source_id, Source.lease_owner == owner)
        .values(lease_owner=None, lease_until=None)
        .execution_options(synchronize_session=False)
    )


def mark_success(source: Source, now: datetime | None = None) -> None:
    """Record a completed poll."""
    source.last_success_at = now or utcnow()
    source.consecutive_errors = 0


def mark_error(source: Source, message: str, now: datetime | None = None) -> None:
    """Record a failed poll (retriable); the source stays enabled."""
    source.last_error, source.last_error_at = mask(message)[:2000], now or utcnow()
    source.consecutive_errors += 1


def defer_source(source: Source, seconds: float, now: datetime | None = None) -> None:
    """Poll the source again no sooner than `seconds` from now (an API's FloodWait or Retry-After)."""
    source.not_before = (now or utcnow()) + timedelta(seconds=min(max(seconds, 0.0), MAX_DEFER_S))


def is_deferred(source: Source, now: datetime | None = None) -> bool:
    """True while a pause asked for by the source's API lasts."""
    return source.not_before is not None and source.not_before > (now or utcnow())


def disable_source(source: Source, reason: str, now: datetime | None = None) -> None:
    """Switch off one source that needs a human (bad token, no access, missing secret)."""
    source.enabled = False
    reason = mask(reason)[:2000]
    source.disabled_reason = reason
    source.last_error, source.last_error_at = reason, now or utcnow()


def due_sources(session: Session, now: datetime | None = None) -> list[Source]:
    """Enabled sources whose interval has passed since their last attempt and whose API asked no pause."""
    now = now or utcnow()
    rows = session.scalars(sa.select(Source).where(Source.enabled.is_(True)).order_by(Source.id))
    return [
        s for s in rows
        if (s.last_attempt_at is None or s.last_attempt_at + timedelta(seconds=s.interval_s) <= now)
        and not is_deferred(s, now)
    ]
