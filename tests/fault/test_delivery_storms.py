"""Webhook storms: 5xx/429 bursts and answers slower than the timeout. Every outbox row ends `sent`, every
key arrives, and a re-send (after a timeout the sender could not tell from a loss) carries the same
Idempotency-Key. Delivery is at-least-once with a key by design (routing/delivery.py)."""
from __future__ import annotations

import threading
from datetime import timedelta

import pytest
import sqlalchemy as sa

from routing.delivery import deliver_pending
from routing.policy import load_policy
from routing.stage import route_items
from storage.tables import Outbox, Ticket
from tests.routing.conftest import NOW, add_pair
from tests.support.webhook import WebhookReceiver
from tests.support.world import SECRET, write_config

TOWNS = ("городской округ Керчь", "городской округ Ялта", "городской округ Симферополь", "городской округ Феодосия")


@pytest.fixture(autouse=True)
def webhook_secret(monkeypatch):
    monkeypatch.setenv("TSUR_WEBHOOK_SECRET", SECRET)


def tickets(sessions, policy, n: int) -> list[str]:
    """Route `n` complaints about different places and problems; returns the outbox keys."""
    with sessions() as s, s.begin():
        pairs = [add_pair(s, text=f"Проблема номер {i}: нет воды, свет, газ {i * 7}", municipality=TOWNS[i % 4],
                          topic_group=("ЖКХ", "Дороги")[i // 4 % 2], item_id=f"storm{i}") for i in range(n)]
        route_items(s, pairs, now=NOW, policy=policy)
    with sessions() as s:
        return list(s.scalars(sa.select(Outbox.key)))


def drain(sessions, policy, rounds: int = 40) -> list[dict]:
    """Deliver with a clock that jumps past every back-off, until nothing is pending."""
    now, results = NOW, []
    for _ in range(rounds):
        results.append(deliver_pending(sessions, now, policy, limit=5))
        with sessions() as s:
            if not s.scalar(sa.select(sa.func.count()).select_from(Outbox).where(Outbox.status == "pending")):
                break
        now += timedelta(seconds=policy.delivery.backoff_max_s + policy.delivery.lease_s + 1)
    return results


def statuses(sessions) -> dict[str, str]:
    with sessions() as s:
        return dict(s.execute(sa.select(Outbox.key, Outbox.status)).all())


def test_error_storm_then_everything_arrives_once(sessions, tmp_path):
    storm = [503, 502, 500, 429, 503, 408, 504, 503, 429, 500, 503, 503]
    with WebhookReceiver(SECRET, script=storm) as hook:
        policy = load_policy(write_config(tmp_path / "config", hook.url, max_attempts=8))
        keys = tickets(sessions, policy, 8)
        results = drain(sessions, policy)
        receipts = hook.receipts()
    assert len(keys) == 8 and set(statuses(sessions).values()) == {"sent"}
    assert sum(r["retry"] for r in results) == len(storm) and hook.refused == len(storm)
    assert receipts == {k: 1 for k in keys}  # one process, no timeouts: nothing twice
    with sessions() as s:
        assert set(s.scalars(sa.select(Ticket.status))) == {"sent"}


def test_slow_answers_are_resent_under_the_same_key(sessions, tmp_path):
    with WebhookReceiver(SECRET, slow_first=3, slow_s=0.8) as hook:
        policy = load_policy(write_config(tmp_path / "config", hook.url, timeout_s=0.3))
        keys = tickets(sessions, policy, 4)
        drain(sessions, policy)
        receipts = hook.receipts()
        mismatched = hook.mismatched_keys()
    assert set(statuses(sessions).values()) == {"sent"} and set(receipts) == set(keys)
    assert sum(receipts.values()) == len(keys) + 3 and max(receipts.values()) == 2
    assert mismatched == []  # every copy carries its key in the header and the body


def test_permanent_refusal_fails_the_row_without_a_storm_of_retries(sessions, tmp_path):
    with WebhookReceiver(SECRET, script=[410]) as hook:
        policy = load_policy(write_config(tmp_path / "config", hook.url))
        tickets(sessions, policy, 1)
        drain(sessions, policy)
    assert list(statuses(sessions).values()) == ["failed"] and hook.refused == 1 and hook.receipts() == {}


@pytest.mark.postgres
def test_no_duplicate_sends_between_live_workers(pg_url, tmp_path):
    from storage.db import make_engine, make_sessionmaker, upgrade

    engine = make_engine(pg_url)
    upgrade(engine)
    sessions = make_sessionmaker(engine)
    with WebhookReceiver(SECRET, slow_first=100, slow_s=0.25) as hook:
        policy = load_policy(write_config(tmp_path / "config", hook.url, lease_s=0.6, timeout_s=5.0))
        keys = tickets(sessions, policy, 8)
        workers = [threading.Thread(target=deliver_pending, args=(sessions, NOW + timedelta(seconds=d), policy))
                   for d in (0, 1)]
        workers[0].start()
        threading.Event().wait(0.9)  # the first claimer is mid-batch and its lease has run out
        workers[1].start()
        for w in workers:
            w.join(30)
        receipts = hook.receipts()
    engine.dispose()
    assert set(receipts) == set(keys)
    assert max(receipts.values()) == 1, receipts
