"""Shared fixtures: databases on SQLite and PostgreSQL, and the ../shared data folder."""
from __future__ import annotations

import os
import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa

from storage.db import make_engine, make_sessionmaker, upgrade

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("TSUR_SHARED_DATA", ROOT.parent / "shared" / "data"))
PG_ENV = "TSUR_TEST_POSTGRES_URL"


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """../shared/data, or a clean skip in a user's fresh clone that does not have it."""
    if not SHARED.is_dir():
        if os.environ.get("TSUR_REQUIRE_SHARED"):
            pytest.fail(f"TSUR_REQUIRE_SHARED is set but {SHARED} is missing")
        pytest.skip(f"{SHARED} not present (only CI and developers have ../shared)")
    return SHARED


def _pg_base_url() -> str | None:
    url = os.environ.get(PG_ENV)
    if not url:
        return None
    try:
        engine = sa.create_engine(url)
        with engine.connect() as conn:
            conn.exec_driver_sql("SELECT 1")
        engine.dispose()
    except Exception:
        return None
    return url


@pytest.fixture(scope="session")
def pg_base_url() -> str:
    url = _pg_base_url()
    if url is None:
        if os.environ.get("TSUR_REQUIRE_POSTGRES"):
            pytest.fail(f"TSUR_REQUIRE_POSTGRES is set but PostgreSQL at {PG_ENV} is not reachable")
        pytest.skip(f"PostgreSQL not reachable: set {PG_ENV} (e.g. postgresql+psycopg://postgres@127.0.0.1:5432/test)")
    return url


def fresh_pg_schema(base_url: str) -> tuple[str, callable]:
    """A URL whose search_path is a new empty schema, and a function that drops it."""
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(base_url)
    with admin.begin() as conn:
        conn.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
    url = sa.make_url(base_url).update_query_dict({"options": f"-csearch_path={schema}"})

    def drop() -> None:
        with admin.begin() as conn:
            conn.exec_driver_sql(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        admin.dispose()

    return url.render_as_string(hide_password=False), drop


@pytest.fixture
def pg_url(pg_base_url):
    """A migrated-nothing PostgreSQL URL private to this test (its own schema)."""
    url, drop = fresh_pg_schema(pg_base_url)
    yield url
    drop()


@pytest.fixture
def sqlite_url(tmp_path) -> str:
    return f"sqlite:///{tmp_path / 'tsur.db'}"


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request, tmp_path):
    """The same test on SQLite and on PostgreSQL (skipped cleanly when PostgreSQL is unreachable)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'tsur.db'}"
    else:
        base = request.getfixturevalue("pg_base_url")
        url, drop = fresh_pg_schema(base)
        yield url
        drop()


@pytest.fixture
def engine(db_url):
    """A migrated engine on each dialect."""
    eng = make_engine(db_url)
    upgrade(eng)
    yield eng
    eng.dispose()


@pytest.fixture
def sessions(engine):
    return make_sessionmaker(engine)
