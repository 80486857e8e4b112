"""A delivery channel added later: the deliver pass queues the agency's waiting tickets once, never twice."""
from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from routing.delivery import deliver_pending
from routing.lifecycle import change_status, reassign
from routing.policy import load_policy
from storage.tables import Outbox, Ticket
from tests.routing.conftest import NOW, channel_toml, config_copy
from tests.routing.test_delivery import KERCH_ADMIN, hook, new_ticket, outbox, secret  # noqa: F401 - fixtures

MINZDRAV = "Министерство здравоохранения Республики Крым"


def test_channel_added_later_delivers_waiting_new_tickets_once(sessions, tmp_path, hook):  # noqa: F811
    before = load_policy(config_copy(tmp_path / "before", ""))
    waiting, working = new_ticket(sessions, before), new_ticket(sessions, before, "Нет света на Гагарина в Керчи")
    with sessions.begin() as s:
        change_status(s, s.get(Ticket, working), "in_progress", actor="ops", reason="by phone", now=NOW)
    assert deliver_pending(sessions, NOW, before) == {"claimed": 0, "sent": 0, "retry": 0, "failed": 0}
    after = load_policy(config_copy(tmp_path / "after", channel_toml(KERCH_ADMIN, webhook=hook.url)))
    assert deliver_pending(sessions, NOW, after) == {"claimed": 1, "sent": 1, "retry": 0, "failed": 0, "queued": 1}
    assert [r[1:] for r in outbox(sessions)] == [("sent", 1, f"ticket:{waiting}:created:webhook")]
    assert deliver_pending(sessions, NOW + timedelta(hours=1), after)["claimed"] == 0
    assert len(outbox(sessions)) == 1 and len(hook.requests) == 1
    with sessions() as s:
        assert (s.get(Ticket, waiting).status, s.get(Ticket, working).status) == ("sent", "in_progress")


def test_ticket_reassigned_to_an_agency_that_gets_a_channel_later(sessions, tmp_path, hook):  # noqa: F811
    kerch_only = load_policy(config_copy(tmp_path / "one", channel_toml(KERCH_ADMIN, webhook=hook.url)))
    ticket_id = new_ticket(sessions, kerch_only)
    deliver_pending(sessions, NOW, kerch_only)
    with sessions.begin() as s:
        reassign(s, s.get(Ticket, ticket_id), agency=MINZDRAV, actor="ops", reason="health", now=NOW,
                 policy=kerch_only)
        assert s.get(Ticket, ticket_id).status == "new"  # no channel for Минздрав: nothing queued yet
    both = config_copy(tmp_path / "two", channel_toml(KERCH_ADMIN, webhook=hook.url)
                       + f'[[channel]]\nagency = "{MINZDRAV}"\nwebhook = "{hook.url}"\n')
    assert deliver_pending(sessions, NOW, load_policy(both))["queued"] == 1
    assert "queued" not in deliver_pending(sessions, NOW, load_policy(both))
    with sessions() as s:
        rows = s.execute(sa.select(Outbox.key, Outbox.status).order_by(Outbox.id)).all()
        agencies = [p["ticket"]["agency"] for p in s.scalars(sa.select(Outbox.payload).order_by(Outbox.id))]
    assert agencies == [KERCH_ADMIN, MINZDRAV] and [r.status for r in rows] == ["sent", "sent"]
    assert rows[1].key.startswith(f"ticket:{ticket_id}:to:") and len(hook.requests) == 2
