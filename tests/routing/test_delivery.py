"""Outbox delivery: signed webhook to a loopback server, e-mail to a local SMTP server, retries, crash safety."""
from __future__ import annotations

import hashlib
import hmac
import ipaddress
import json
import os
import signal
import socket
import subprocess
import sys
import threading
from datetime import timedelta
from email import message_from_bytes
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import sqlalchemy as sa
from aiosmtpd.controller import Controller

from routing import channels
from routing.delivery import deliver_pending
from routing.errors import RulesError
from routing.policy import load_policy
from routing.stage import route_items
from storage.tables import Outbox, Ticket, TicketEvent
from tests.conftest import ROOT
from tests.routing.conftest import NOW, add_pair, channel_toml, config_copy

KERCH_ADMIN = "Администрация городского округа Керчь Республики Крым"
SECRET = "test-shared-secret-42"


class Hook:
    """A loopback webhook receiver: records requests, answers from a script of status codes."""

    def __init__(self, statuses=(), block_first=False, location=None):
        self.requests, self.statuses, self.location = [], list(statuses), location
        self.received, self.release, self.block_first = threading.Event(), threading.Event(), block_first
        hook = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                hook.requests.append((dict(self.headers), body))
                hook.received.set()
                if hook.block_first and len(hook.requests) == 1:
                    hook.release.wait(30)
                status = hook.statuses.pop(0) if hook.statuses else 200
                try:
                    self.send_response(status)
                    if hook.location:
                        self.send_header("Location", hook.location)
                    self.end_headers()
                except OSError:
                    pass

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.release.set()
        self.server.shutdown()
        self.server.server_close()


class Mailbox:
    """aiosmtpd handler keeping the received messages."""

    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append((envelope.rcpt_tos, message_from_bytes(envelope.content)))
        return "250 OK"


@pytest.fixture
def hook():
    h = Hook()
    yield h
    h.close()


@pytest.fixture
def smtp(monkeypatch):
    box = Mailbox()
    with socket.socket() as probe:  # aiosmtpd needs a concrete port
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(box, hostname="127.0.0.1", port=port)
    controller.start()
    monkeypatch.setenv("TSUR_SMTP_URL", f"smtp://127.0.0.1:{port}")
    monkeypatch.setenv("TSUR_SMTP_FROM", "cur@example.org")
    yield box
    controller.stop()


@pytest.fixture(autouse=True)
def secret(monkeypatch):
    monkeypatch.setenv("TSUR_WEBHOOK_SECRET", SECRET)


def policy_for(tmp_path, **channel):
    return load_policy(config_copy(tmp_path / "cfg", channel_toml(KERCH_ADMIN, **channel)))


def new_ticket(sessions, policy, text="Нет воды на улице Ленина в Керчи"):
    with sessions() as s, s.begin():
        [decision] = route_items(s, [add_pair(s, text)], now=NOW, policy=policy)
    return decision.ticket_id


def outbox(sessions):
    with sessions() as s:
        return s.execute(sa.select(Outbox.channel, Outbox.status, Outbox.attempts, Outbox.key)
                         .order_by(Outbox.id)).all()


def test_webhook_is_signed_and_ticket_becomes_sent(sessions, policy, hook, smtp, tmp_path, caplog):
    pol = policy_for(tmp_path, webhook=hook.url, email="kerch@example.org")
    ticket_id = new_ticket(sessions, pol)
    caplog.set_level("DEBUG")
    assert deliver_pending(sessions, NOW, pol) == {"claimed": 2, "sent": 2, "retry": 0, "failed": 0}
    [(headers, body)] = hook.requests
    expected = "sha256=" + hmac.new(SECRET.encode(), headers["X-Tsur-Timestamp"].encode() + b"." + body,
                                    hashlib.sha256).hexdigest()
    assert headers["X-Tsur-Signature"] == expected
    assert headers["Idempotency-Key"] == f"ticket:{ticket_id}:created:webhook"
    payload = json.loads(body)
    assert payload["ticket"]["agency"] == KERCH_ADMIN and payload["items"][0]["text"].startswith("Нет воды")
    [(rcpt, message)] = smtp.messages
    assert rcpt == ["kerch@example.org"] and message["X-Idempotency-Key"] == f"ticket:{ticket_id}:created:email"
    assert "Нет воды" in message.get_payload(decode=True).decode()
    assert [r[:3] for r in outbox(sessions)] == [("webhook", "sent", 1), ("email", "sent", 1)]
    with sessions() as s:
        assert s.get(Ticket, ticket_id).status == "sent"
        assert s.scalar(sa.select(sa.func.count()).select_from(TicketEvent).where(TicketEvent.new_value == "sent")) == 1
    assert SECRET not in caplog.text
    assert deliver_pending(sessions, NOW + timedelta(hours=1), pol)["claimed"] == 0  # nothing is sent twice


def test_retries_back_off_exponentially(sessions, tmp_path):
    hook = Hook(statuses=[503, 500])
    try:
        pol = policy_for(tmp_path, webhook=hook.url)
        new_ticket(sessions, pol)
        assert deliver_pending(sessions, NOW, pol)["retry"] == 1
        assert deliver_pending(sessions, NOW + timedelta(seconds=29), pol)["claimed"] == 0
        assert deliver_pending(sessions, NOW + timedelta(seconds=30), pol)["retry"] == 1
        assert deliver_pending(sessions, NOW + timedelta(seconds=89), pol)["claimed"] == 0  # 30 + 60 s
        assert deliver_pending(sessions, NOW + timedelta(seconds=90), pol)["sent"] == 1
        assert [r[:3] for r in outbox(sessions)] == [("webhook", "sent", 3)]
        assert len({h["Idempotency-Key"] for h, _ in hook.requests}) == 1
    finally:
        hook.close()


def test_client_error_fails_permanently_and_is_recorded(sessions, tmp_path):
    hook = Hook(statuses=[400])
    try:
        pol = policy_for(tmp_path, webhook=hook.url)
        ticket_id = new_ticket(sessions, pol)
        assert deliver_pending(sessions, NOW, pol)["failed"] == 1
        with sessions() as s:
            row = s.scalar(sa.select(Outbox))
            assert (row.status, row.last_error) == ("failed", f"webhook 127.0.0.1:{hook.url.split(':')[2][:-5]}: HTTP 400")
            assert s.get(Ticket, ticket_id).status == "new"  # still visible, not lost
    finally:
        hook.close()


def test_credentials_in_a_webhook_url_are_not_stored_in_errors(sessions, tmp_path):
    hook = Hook(statuses=[400])
    try:
        pol = policy_for(tmp_path, webhook=hook.url.replace("http://", "http://bot:hunter22@"))
        new_ticket(sessions, pol)
        assert deliver_pending(sessions, NOW, pol)["failed"] == 1
        with sessions() as s:
            stored = [s.scalar(sa.select(Outbox.last_error)), *s.scalars(sa.select(TicketEvent.reason))]
        assert "HTTP 400" in stored[0] and not [e for e in stored if "hunter22" in (e or "")]
    finally:
        hook.close()


def test_missing_secret_keeps_message_pending(sessions, tmp_path, hook, monkeypatch):
    monkeypatch.delenv("TSUR_WEBHOOK_SECRET")
    pol = policy_for(tmp_path, webhook=hook.url)
    new_ticket(sessions, pol)
    assert deliver_pending(sessions, NOW, pol)["retry"] == 1
    with sessions() as s:
        assert "TSUR_WEBHOOK_SECRET is not set" in s.scalar(sa.select(Outbox.last_error))
    assert hook.requests == []


def test_agency_without_channel_sends_nothing(sessions, policy):
    ticket_id = new_ticket(sessions, policy)
    assert deliver_pending(sessions, NOW, policy) == {"claimed": 0, "sent": 0, "retry": 0, "failed": 0}
    with sessions() as s:
        assert s.get(Ticket, ticket_id).status == "new"


def test_attached_items_are_delivered_too(sessions, hook, tmp_path):
    pol = policy_for(tmp_path, webhook=hook.url)
    first = new_ticket(sessions, pol)
    second = new_ticket(sessions, pol, "На улице Ленина в Керчи нет воды, когда дадут?")
    assert first == second
    assert deliver_pending(sessions, NOW, pol)["sent"] == 2
    assert [json.loads(b)["kind"] for _, b in hook.requests] == ["ticket.created", "ticket.item_added"]


CRASHING_SENDER = """
import sys
from datetime import datetime
from pathlib import Path
from routing import channels
from routing.delivery import deliver_pending
from routing.errors import RulesError
from routing.policy import load_policy
from storage.db import make_engine, make_sessionmaker
deliver_pending(make_sessionmaker(make_engine(sys.argv[1])), datetime.fromisoformat(sys.argv[2]),
                load_policy(Path(sys.argv[3])))
"""


def test_crash_between_send_and_commit_resends_with_same_key(sessions, db_url, tmp_path):
    hook = Hook(block_first=True)
    try:
        config = config_copy(tmp_path / "cfg", channel_toml(KERCH_ADMIN, webhook=hook.url))
        pol = load_policy(config)
        ticket_id = new_ticket(sessions, pol)
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        proc = subprocess.Popen([sys.executable, "-c", CRASHING_SENDER, db_url, NOW.isoformat(), str(config)],
                                env=env, cwd=ROOT)
        assert hook.received.wait(60), "the sender never posted"
        proc.send_signal(signal.SIGKILL)  # the POST arrived; the process dies before marking the row sent
        proc.wait(30)
        hook.release.set()
        assert [r[:3] for r in outbox(sessions)] == [("webhook", "pending", 1)]
        assert deliver_pending(sessions, NOW, pol)["claimed"] == 0  # the lease still holds
        later = NOW + timedelta(seconds=pol.delivery.lease_s)
        assert deliver_pending(sessions, later, pol)["sent"] == 1
        keys = [h["Idempotency-Key"] for h, _ in hook.requests]
        assert keys == [f"ticket:{ticket_id}:created:webhook"] * 2
        assert [r[:3] for r in outbox(sessions)] == [("webhook", "sent", 2)]
        with sessions() as s:
            assert s.get(Ticket, ticket_id).status == "sent"
    finally:
        hook.close()


def test_concurrent_claims_never_overlap(sessions, policy):
    from concurrent.futures import ThreadPoolExecutor

    from routing.delivery import claim

    with sessions() as s, s.begin():
        ticket = Ticket(status="new", created_at=NOW, updated_at=NOW)
        s.add(ticket)
        s.flush()
        s.add_all([Outbox(key=f"k{n}", ticket_id=ticket.id, channel="webhook", target="http://127.0.0.1:9/",
                          next_attempt_at=NOW) for n in range(40)])

    def drain() -> list[int]:
        got = []
        while batch := claim(sessions, NOW, policy, 3):
            got += [c.id for c in batch]
        return got

    with ThreadPoolExecutor(4) as pool:
        claimed = [i for ids in pool.map(lambda _: drain(), range(4)) for i in ids]
    assert len(claimed) == 40 and len(set(claimed)) == 40


@pytest.mark.parametrize("key, target", [
    ("webhook", "http://169.254.169.254/latest/meta-data/"), ("webhook", "http://metadata.google.internal/x"),
    ("webhook", "http://[fe80::1]/hook"), ("webhook", "file:///etc/passwd"), ("webhook", "gopher://a.ru/"),
    ("webhook", "not a url"), ("webhook", "https://a.ru/hook\\r\\nX-Evil: 1"), ("webhook", "https:///hook"),
    ("email", "dispatch@example.org\\r\\nBcc: all@example.org"), ("email", "Отдел <dispatch@example.org>"),
    ("email", "a@b@example.org"), ("email", "dispatch"),
])
def test_a_bad_target_is_refused_on_load_in_one_line(tmp_path, key, target):
    config = config_copy(tmp_path / "cfg", f'[[channel]]\nagency = "{KERCH_ADMIN}"\n{key} = "{target}"\n')
    with pytest.raises(RulesError) as err:
        load_policy(config)
    message = str(err.value)
    assert len(message.splitlines()) == 1 and KERCH_ADMIN in message and f"{key} " in message


def test_link_local_webhooks_only_when_allowed(tmp_path):
    pol = policy_for(tmp_path, webhook="http://169.254.169.254/hook", allow_link_local_targets=True)
    assert pol.delivery.channels[KERCH_ADMIN].webhook == "http://169.254.169.254/hook"


def test_a_redirect_is_not_followed_with_the_signature(sessions, tmp_path):
    elsewhere = Hook()
    hook = Hook(statuses=[307], location=elsewhere.url)
    try:
        pol = policy_for(tmp_path, webhook=hook.url)
        new_ticket(sessions, pol)
        assert deliver_pending(sessions, NOW, pol)["retry"] == 1
        assert len(hook.requests) == 1 and elsewhere.requests == []
        with sessions() as s:
            assert "redirect to another address not followed" in s.scalar(sa.select(Outbox.last_error))
    finally:
        hook.close()
        elsewhere.close()


def test_a_host_resolving_to_a_metadata_address_is_refused_at_send(sessions, tmp_path, monkeypatch):
    pol = policy_for(tmp_path, webhook="http://hook.example.org/tsur")
    new_ticket(sessions, pol)
    monkeypatch.setattr(channels, "checked_session", lambda *a: pytest.fail("posted to a metadata address"))
    monkeypatch.setattr("routing.targets.socket.getaddrinfo",
                        lambda *a, **k: [(2, 1, 6, "", ("169.254.169.254", 80))])
    assert deliver_pending(sessions, NOW, pol)["failed"] == 1
    with sessions() as s:
        assert "resolves to a cloud metadata address" in s.scalar(sa.select(Outbox.last_error))


def test_a_name_rebound_after_the_check_is_refused_before_sending(sessions, tmp_path, hook, monkeypatch):
    port = hook.url.split(":")[2].split("/")[0]
    pol = policy_for(tmp_path, webhook=f"http://hook.example.org:{port}/hook")
    new_ticket(sessions, pol)
    answers = iter(["127.0.0.2", "127.0.0.1"])  # the check sees one address, the connection gets another

    def getaddrinfo(host, port, *args, **kwargs):
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (next(answers), int(port)))]

    monkeypatch.setattr("routing.targets.METADATA_ADDRESSES", frozenset({ipaddress.ip_address("127.0.0.1")}))
    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    assert deliver_pending(sessions, NOW, pol)["failed"] == 1
    assert hook.requests == []
    with sessions() as s:
        assert "connected to a cloud metadata address" in s.scalar(sa.select(Outbox.last_error))


def queue_rows(sessions, targets):
    """Outbox rows queued directly (as by an older release that did not check targets)."""
    with sessions() as s, s.begin():
        ticket = Ticket(status="new", created_at=NOW, updated_at=NOW)
        s.add(ticket)
        s.flush()
        s.add_all([Outbox(key=f"k{n}:{channel}", ticket_id=ticket.id, channel=channel, target=target,
                          payload={"kind": "ticket.created", "ticket": {"id": ticket.id}}, next_attempt_at=NOW)
                   for n, (channel, target) in enumerate(targets)])


def test_a_bad_row_is_parked_and_never_aborts_the_pass(sessions, tmp_path, hook, smtp):
    # an e-mail target with CRLF used to raise out of deliver_pending: 0 of 38 pending sent, every pass
    pol = policy_for(tmp_path, webhook=hook.url)
    queue_rows(sessions, [("email", "dispatch@example.org\r\nBcc: all@example.org")] + [("webhook", hook.url)] * 5
               + [("email", "kerch@example.org")])
    assert deliver_pending(sessions, NOW, pol) == {"claimed": 7, "sent": 6, "retry": 0, "failed": 1}
    assert [r[1] for r in outbox(sessions)] == ["failed"] + ["sent"] * 6
    assert len(hook.requests) == 5 and [rcpt for rcpt, _ in smtp.messages] == [["kerch@example.org"]]


def test_any_exception_is_a_failed_attempt_then_parked(sessions, tmp_path, hook, monkeypatch):
    pol = policy_for(tmp_path, webhook=hook.url, max_attempts=2)
    queue_rows(sessions, [("webhook", hook.url)] * 3)
    real = channels.send_webhook

    def flaky(url, key, *args):
        if key == "k0:webhook":
            raise UnicodeEncodeError("latin-1", "ж", 0, 1, "header value")
        return real(url, key, *args)

    monkeypatch.setattr(channels, "send_webhook", flaky)
    assert deliver_pending(sessions, NOW, pol) == {"claimed": 3, "sent": 2, "retry": 1, "failed": 0}
    later = NOW + timedelta(hours=1)
    assert deliver_pending(sessions, later, pol) == {"claimed": 1, "sent": 0, "retry": 0, "failed": 1}
    with sessions() as s:
        row = s.scalar(sa.select(Outbox).where(Outbox.key == "k0:webhook"))
        assert (row.status, row.attempts) == ("failed", 2) and row.last_error.startswith("UnicodeEncodeError")


def test_a_row_claimed_max_attempts_times_without_outcome_is_parked(sessions, tmp_path, hook):
    pol = policy_for(tmp_path, webhook=hook.url, max_attempts=3)
    queue_rows(sessions, [("webhook", hook.url)])
    with sessions() as s, s.begin():
        s.execute(sa.update(Outbox).values(attempts=3))  # three senders died holding it
    assert deliver_pending(sessions, NOW, pol) == {"claimed": 0, "sent": 0, "retry": 0, "failed": 1}
    assert hook.requests == [] and [r[1:3] for r in outbox(sessions)] == [("failed", 3)]
    with sessions() as s:
        assert "without an outcome" in s.scalar(sa.select(TicketEvent.reason).where(TicketEvent.kind == "delivery"))
