"""Engines and sessions: SQLite (WAL) by default, PostgreSQL by URL; schema upgrades via Alembic."""
from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

MIGRATIONS = Path(__file__).with_name("migrations")


SUPPORTED = ("sqlite", "postgresql")
URL_EXAMPLES = "sqlite:///var/tsur.db or postgresql+psycopg://user@host:5432/db"


class DatabaseUnavailable(RuntimeError):
    """The database cannot be reached or opened."""


def check_url(url: str) -> None:
    """Raise ValueError (one line, no password) unless `url` names a supported database with its driver installed.

    Example: check_url("postgresql://x/y")  # ValueError: … psycopg2 is not installed; use postgresql+psycopg://…
    """
    try:
        parsed = sa.make_url(url)
    except sa.exc.ArgumentError:
        raise ValueError(f"not a database URL (expected e.g. {URL_EXAMPLES})") from None
    shown = parsed.render_as_string(hide_password=True)
    try:
        dialect = parsed.get_dialect()
    except sa.exc.NoSuchModuleError:
        hint = " (write postgresql+psycopg://)" if parsed.drivername.startswith("postgres") else ""
        raise ValueError(f"unknown database kind {parsed.drivername!r} in {shown}{hint}; expected e.g. "
                         f"{URL_EXAMPLES}") from None
    if dialect.name not in SUPPORTED:
        raise ValueError(f"{shown}: {dialect.name} is not supported; use SQLite or PostgreSQL ({URL_EXAMPLES})")
    try:
        dialect.import_dbapi()
    except ImportError as exc:
        hint = "; use postgresql+psycopg://… (psycopg 3 is installed)" if dialect.name == "postgresql" else ""
        raise ValueError(f"{shown}: database driver {exc.name or parsed.drivername} is not installed{hint}") from None


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cur = dbapi_connection.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.close()


def _sqlite_begin(conn) -> None:
    # Take the write lock at BEGIN so claims on SQLite are serialised like SKIP LOCKED claims.
    conn.exec_driver_sql("BEGIN IMMEDIATE")


def make_engine(url: str, **kwargs) -> Engine:
    """An engine for `url`; SQLite gets WAL, foreign keys, a busy timeout and IMMEDIATE transactions.

    Example: make_engine("sqlite:///var/tsur.db"), make_engine("postgresql+psycopg://localhost/tsur")
    """
    url_obj = sa.make_url(url)
    kwargs.setdefault("hide_parameters", True)  # SQL errors must not carry complaint texts, URLs or payloads
    if url_obj.get_backend_name() == "sqlite":
        database = url_obj.database
        if database and database != ":memory:":
            Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        engine = sa.create_engine(url_obj, **kwargs)
        event.listen(engine, "connect", _sqlite_pragmas)

        @event.listens_for(engine, "connect")
        def _no_pysqlite_begin(dbapi_connection, _record):
            dbapi_connection.isolation_level = None  # we emit BEGIN ourselves

        event.listen(engine, "begin", _sqlite_begin)
        return engine
    kwargs.setdefault("pool_pre_ping", True)
    return sa.create_engine(url_obj, **kwargs)


def make_sessionmaker(engine: Engine) -> sessionmaker[Session]:
    """A session factory that keeps loaded objects usable after commit."""
    return sessionmaker(engine, expire_on_commit=False)


def check_connection(engine: Engine) -> None:
    """Raise DatabaseUnavailable with one clear line when the database is unreachable."""
    try:
        with engine.connect() as conn:
            conn.exec_driver_sql("SELECT 1")
    except sa.exc.SQLAlchemyError as exc:
        reason = str(getattr(exc, "orig", exc) or exc).strip().splitlines()[0]
        raise DatabaseUnavailable(f"database {engine.url.render_as_string(hide_password=True)} unreachable: {reason}") from None


def alembic_config(engine: Engine):
    """An Alembic config pointing at our migrations and bound to `engine`."""
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["engine"] = engine
    return cfg


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Create or upgrade the schema to `revision` (idempotent; safe when several daemons start at once).

    On PostgreSQL the upgrade holds a session-level advisory lock keyed by the schema, on the very
    connection Alembic migrates through: concurrent starts wait, then find the schema current.
    """
    from alembic import command

    from storage.locks import hold

    check_connection(engine)
    cfg = alembic_config(engine)
    with engine.connect() as conn:
        schema = conn.exec_driver_sql("SELECT current_schema()").scalar() if conn.dialect.name == "postgresql" else ""
        conn.rollback()
        with hold(conn, f"migrate:{schema}"):
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, revision)
