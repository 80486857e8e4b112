"""Cluster-wide locks for work that must not interleave between daemons sharing one database."""
from __future__ import annotations

import logging
import zlib
from collections.abc import Iterator
from contextlib import contextmanager

import sqlalchemy as sa
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

log = logging.getLogger(__name__)


def lock_key(name: str) -> int:
    """The advisory-lock number of the lock `name` (stable across processes and hosts)."""
    return zlib.crc32(f"tsur:{name}".encode())


def serialize(session: Session, name: str) -> None:
    """Hold the lock `name` until this transaction ends (PostgreSQL advisory lock).

    SQLite needs nothing: its transactions already start with the write lock (BEGIN IMMEDIATE).
    Example: serialize(session, "tickets")  # then read and update tickets without deadlocks
    """
    if session.get_bind().dialect.name == "postgresql":
        session.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": lock_key(name)})


@contextmanager
def hold(conn: Connection, name: str) -> Iterator[None]:
    """Hold the session-level lock `name` on `conn` across its transactions (PostgreSQL; no-op elsewhere).

    The lock is taken and released outside any transaction, so the caller may commit freely inside.
    Example: with engine.connect() as conn, hold(conn, "migrate:public"): ...
    """
    if conn.dialect.name != "postgresql":
        yield
        return
    key = lock_key(name)
    got = conn.execute(sa.text("SELECT pg_try_advisory_lock(:key)"), {"key": key}).scalar()
    if not got:
        log.info("waiting for lock %s (another daemon holds it)", name)
        conn.execute(sa.text("SELECT pg_advisory_lock(:key)"), {"key": key})
    conn.commit()
    try:
        yield
    finally:
        try:
            conn.rollback()
            conn.execute(sa.text("SELECT pg_advisory_unlock(:key)"), {"key": key})
            conn.commit()
        except sa.exc.SQLAlchemyError:  # a broken connection: closing it ends the session and its lock
            conn.invalidate()
