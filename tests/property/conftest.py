"""Hypothesis profiles for the bad-input proofs, and the databases the end-to-end fuzzing stores into.

"tsur" (the default): modest, derandomised (reproducible in CI), no deadline. "tsur-random": fewer examples
with a fresh random seed each run (CI runs it too, to find what the fixed seed never tries); pick it with
TSUR_HYPOTHESIS_PROFILE=tsur-random.
"""
import os

import pytest
from hypothesis import HealthCheck, settings

from storage.db import make_engine, make_sessionmaker, upgrade
from tests.conftest import fresh_pg_schema

QUIET = [HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.function_scoped_fixture]
settings.register_profile("tsur", max_examples=120, deadline=None, derandomize=True, suppress_health_check=QUIET)
settings.register_profile("tsur-random", max_examples=40, deadline=None, derandomize=False,
                          suppress_health_check=QUIET, print_blob=True)
settings.load_profile(os.environ.get("TSUR_HYPOTHESIS_PROFILE", "tsur"))


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def fuzz_sessions(request, tmp_path_factory):
    """One migrated database per module on SQLite and on PostgreSQL, shared by a fuzz test's examples
    (examples keep apart by using their own source keys)."""
    drop = None
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('fuzz') / 'tsur.db'}"
    else:
        url, drop = fresh_pg_schema(request.getfixturevalue("pg_base_url"))
    engine = make_engine(url)
    upgrade(engine)
    yield make_sessionmaker(engine)
    engine.dispose()
    if drop:
        drop()
