"""Migrations: one head, upgrade from empty is idempotent, and the result matches the tables."""
from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory

from storage.db import alembic_config, make_engine, upgrade
from storage.tables import Base


def test_single_head(sqlite_url):
    script = ScriptDirectory.from_config(alembic_config(make_engine(sqlite_url)))
    assert len(script.get_heads()) == 1, script.get_heads()


def test_upgrade_twice_and_matches_models(db_url):
    engine = make_engine(db_url)
    upgrade(engine)
    upgrade(engine)  # re-running is harmless
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert diff == []
    engine.dispose()
