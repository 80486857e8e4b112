"""A private PostgreSQL restarted (fast and immediate) under load: the daemons reconnect, and every
item is still stored, analysed, routed and delivered once. The shared server is never touched."""
from __future__ import annotations

import time

import pytest
import sqlalchemy as sa

from tests.fault.test_sigkill_pipeline import prepare
from tests.support.fleet import Fleet, check_invariants, progress, wait_quiescent
from tests.support.private_pg import PrivatePostgres, Unavailable
from tests.support.webhook import WebhookReceiver
from tests.support.world import SECRET, make_world

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def private_pg():
    try:
        pg = PrivatePostgres.start_new()
    except Unavailable as exc:
        pytest.skip(f"no private PostgreSQL: {exc}")
    yield pg
    pg.stop()


def new_database(pg: PrivatePostgres, name: str) -> str:
    """A URL of a new empty database on the private server (it disappears with the server)."""
    admin = sa.create_engine(pg.url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    admin.dispose()
    return sa.make_url(pg.url).set(database=name).render_as_string(hide_password=False)


def wait_for(sessions, ready, timeout: float) -> dict[str, int]:
    """Poll progress until `ready(progress)` or the timeout."""
    deadline = time.monotonic() + timeout
    while True:
        p = progress(sessions)
        if ready(p) or time.monotonic() > deadline:
            return p
        time.sleep(0.1)


@pytest.mark.parametrize("mode", ["fast", "immediate"])
def test_daemons_survive_database_restart(private_pg, tmp_path, mode):
    url = new_database(private_pg, f"restart_{mode}")
    with WebhookReceiver(SECRET) as hook:
        world = make_world(tmp_path, hook.url, sources=2, per_source=120)
        engine, sessions = prepare(url, world)
        fleet = Fleet(world, url, mode="daemon", delay=0.01, batch=20)
        try:
            fleet.start_all({"d0": None, "d1": None})
            before = wait_for(sessions, lambda p: p.get("stage_route", 0) + p.get("stage_done", 0) >= 40, 30)
            engine.dispose()  # our own pooled connections would only be pinged back to life anyway
            private_pg.restart(mode)
            final = wait_quiescent(sessions, len(world.item_keys), 240)  # a bound: returns once quiescent
        finally:
            codes = fleet.stop()
        assert before.get("stage_done", 0) < len(world.item_keys), "the restart came after the work was done"
        assert final.get("stage_done") == len(world.item_keys), (final, fleet.log_tail("d0", 800))
        assert check_invariants(sessions, world, hook.receipts()) == []
        assert fleet.crashes == [] and set(codes.values()) == {0}, (fleet.crashes, codes)
        assert hook.mismatched_keys() == []
        logs = fleet.log_tail("d0", 100_000) + fleet.log_tail("d1", 100_000)
        assert "ERROR tsur.daemon" in logs  # the outage was seen (and survived), not slept through
    engine.dispose()
