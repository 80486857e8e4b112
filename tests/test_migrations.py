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


def _upgrade_after(barrier, url: str) -> str:
    """In a child process: wait for the others, then upgrade; the error's first line, or 'ok'."""
    engine = make_engine(url)
    barrier.wait(timeout=60)
    try:
        upgrade(engine)
        return "ok"
    except Exception as exc:  # reported to the parent, which asserts on it
        return f"{type(exc).__name__}: {str(exc).splitlines()[0]}"
    finally:
        engine.dispose()


def test_daemons_starting_together_upgrade_one_empty_schema(pg_url):
    """Four processes upgrading one empty PostgreSQL schema at once all succeed (advisory lock)."""
    import multiprocessing

    ctx = multiprocessing.get_context("spawn")
    with ctx.Manager() as manager:
        barrier = manager.Barrier(4)
        with ctx.Pool(4) as pool:
            results = pool.starmap(_upgrade_after, [(barrier, pg_url)] * 4, chunksize=1)
    assert results == ["ok"] * 4, results
    engine = make_engine(pg_url)
    with engine.connect() as conn:
        heads = ScriptDirectory.from_config(alembic_config(engine)).get_heads()
        assert [MigrationContext.configure(conn).get_current_revision()] == heads
    engine.dispose()


def test_0005_adds_analyses_genre_and_old_rows_stay_null(db_url):
    """Analyses stored before genres existed keep genre NULL after the upgrade; new ones store it."""
    import sqlalchemy as sa

    engine = make_engine(db_url)
    upgrade(engine, "0004")
    with engine.begin() as conn:
        conn.execute(sa.text("INSERT INTO items (platform, source, item_id, kind, published_at, text_hash, revision, "
                             "stage, first_seen_at, updated_at) VALUES ('vk', 'vk:wall:-1', '1', 'post', "
                             "'2026-11-20 00:00:00', 'h', 1, 'route', '2026-11-20 00:00:00', '2026-11-20 00:00:00')"))
        conn.execute(sa.text("INSERT INTO analyses (item_pk, revision, model_version, is_complaint, complaint_proba, "
                             "topic_proba, geo_confidence, importance, reasons, created_at) VALUES (1, 1, 'old', "
                             "true, 0.9, 0.8, 0.0, 'normal', '[]', '2026-11-20 00:00:00')"))
    upgrade(engine)
    with engine.begin() as conn:
        assert conn.execute(sa.text("SELECT genre FROM analyses")).scalars().all() == [None]
        conn.execute(sa.text("UPDATE analyses SET genre = 'notice'"))
        assert conn.execute(sa.text("SELECT genre FROM analyses")).scalar() == "notice"
    engine.dispose()


def test_0006_quarantine_rows_from_before_are_open(db_url):
    """Records quarantined before 0006 are 'open' after it, with no resolution."""
    import sqlalchemy as sa

    engine = make_engine(db_url)
    upgrade(engine, "0005")
    with engine.begin() as conn:
        conn.execute(sa.text("INSERT INTO quarantine (source, reason, raw, created_at) VALUES "
                             "('vk:wall:-1', 'vk_post 1: bad', NULL, '2026-11-20 00:00:00')"))
    upgrade(engine)
    with engine.begin() as conn:
        row = conn.execute(sa.text("SELECT status, resolved_at, resolved_by, resolution FROM quarantine")).one()
    assert tuple(row) == ("open", None, None, None)
    engine.dispose()
