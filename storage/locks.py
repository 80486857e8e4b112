"""Cluster-wide locks for work that must not interleave between daemons sharing one database."""
from __future__ import annotations

import zlib

import sqlalchemy as sa
from sqlalchemy.orm import Session


def serialize(session: Session, name: str) -> None:
    """Hold the lock `name` until this transaction ends (PostgreSQL advisory lock).

    SQLite needs nothing: its transactions already start with the write lock (BEGIN IMMEDIATE).
    Example: serialize(session, "tickets")  # then read and update tickets without deadlocks
    """
    if session.get_bind().dialect.name == "postgresql":
        session.execute(
            sa.text("SELECT pg_advisory_xact_lock(:key)"),
            {"key": zlib.crc32(f"tsur:{name}".encode())},
        )
