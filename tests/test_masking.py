"""Secrets never reach logs (messages, tracebacks) or the error columns of the database."""
from __future__ import annotations

import json
import logging

import pytest
import sqlalchemy as sa

from storage.runs import record_run
from storage.tables import Run
from tsur.logs import setup_logging
from tsur.masking import mask

TOKEN = "vk1.a.Zq9TOPSECRETxTOKENxVALUE0123456789"


@pytest.mark.parametrize("text, expected", [
    ("wall.get?access_token=abc123def456&v=5.199", "wall.get?access_token=***&v=5.199"),
    ("POST body: owner_id=-1&access_token=abc123def456", "POST body: owner_id=-1&access_token=***"),
    ("{'access_token': 'abc123def456', 'v': '5.199'}", "{'access_token': '***', 'v': '5.199'}"),
    ('{"session": "1BVtsOKABu0abc"}', '{"session": "***"}'),
    ("redirect https://id.vk.ru/x?session_token=abcdef", "redirect https://id.vk.ru/x?session_token=***"),
    ("Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.x", "Authorization: Bearer ***"),
    ("smtps://bot:p%40ss@mail.example.ru:465 refused", "smtps://bot:***@mail.example.ru:465 refused"),
    ("postgresql+psycopg://tsur:hunter22@db:5432/tsur", "postgresql+psycopg://tsur:***@db:5432/tsur"),
    ("token vk1.a.AbCdEfGhIjKlMnOpQrStUv in text", "token *** in text"),
    ("session 1" + "A" * 352 + " revoked", "session *** revoked"),
    ("source vk:wall:-100 disabled: VK error 5: invalid access", "source vk:wall:-100 disabled: VK error 5: invalid access"),
    ("", ""),
])
def test_token_shapes_are_masked(text, expected):
    assert mask(text) == expected


@pytest.mark.parametrize("variable, value, leaked", [
    ("TSUR_VK_TOKEN", TOKEN, f"VK error 5: invalid token {TOKEN}"),
    ("TSUR_SMTP_PASSWORD", "sm!tp-Pa55word", "login failed for bot with sm!tp-Pa55word"),
    ("TSUR_SMTP_URL", "smtp://bot:sm%21tp-Pa55@mail.example.ru:25", "password sm!tp-Pa55 rejected"),
    ("TSUR_WEBHOOK_SECRET", "whsec-0123456789", "signing with whsec-0123456789 failed"),
    ("TSUR_TG_API_HASH", "0123456789abcdef0123456789abcdef", "api_hash 0123456789abcdef0123456789abcdef"),
])
def test_configured_secrets_are_masked_as_written_encoded_and_inside_urls(monkeypatch, variable, value, leaked):
    monkeypatch.setenv(variable, value)
    masked = mask(leaked)
    assert "***" in masked and value not in masked
    assert "Pa55" not in masked and "whsec" not in masked and "0123456789abcdef" not in masked


def fail_with_secret() -> None:
    try:
        raise RuntimeError(f"HTTPSConnectionPool: /method/wall.get?token={TOKEN}")
    except RuntimeError:
        logging.getLogger("tsur.test").exception("poll failed with %s", TOKEN)


@pytest.mark.parametrize("fmt", ["text", "json"])
def test_tracebacks_are_masked_in_both_formats(monkeypatch, capsys, fmt):
    monkeypatch.setenv("TSUR_VK_TOKEN", TOKEN)
    setup_logging("INFO", fmt)
    try:
        fail_with_secret()
    finally:
        setup_logging("WARNING")
    err = capsys.readouterr().err
    assert "Traceback" in err and "RuntimeError" in err
    assert "TOPSECRET" not in err and "***" in err
    if fmt == "json":
        assert "TOPSECRET" not in json.loads(err.splitlines()[0])["exc"]


def test_source_errors_are_stored_masked(monkeypatch):
    from storage.sources import disable_source, mark_error
    from storage.tables import Source

    monkeypatch.setenv("TSUR_VK_TOKEN", TOKEN)
    source = Source(key="vk:wall:-1", platform="vk", handle="-1", consecutive_errors=0)
    mark_error(source, f"Retriable 10: vk:wall:-1: VK error 10: internal, token {TOKEN}")
    assert "TOPSECRET" not in source.last_error and "***" in source.last_error
    disable_source(source, f"Fatal 5: vk:wall:-1: VK error 5: access_token={TOKEN[:12]}x is invalid")
    assert "***" in source.disabled_reason and "vk1.a.Zq9" not in source.disabled_reason + source.last_error


def test_run_errors_are_stored_masked(sessions, monkeypatch):
    monkeypatch.setenv("TSUR_VK_TOKEN", TOKEN)
    with pytest.raises(RuntimeError):
        with record_run(sessions, "collect", worker="w"):
            raise RuntimeError(f"request https://api.vk.ru/method/wall.get?access_token={TOKEN} failed")
    with sessions() as s:
        error = s.scalar(sa.select(Run.error))
    assert error.startswith("RuntimeError: request") and "TOPSECRET" not in error and "***" in error


def test_one_line_errors_printed_to_stderr_are_masked(monkeypatch):
    from collectors.errors import Fatal
    from tsur.errors import one_line

    monkeypatch.setenv("TSUR_VK_TOKEN", TOKEN)
    assert one_line(Fatal(f"vk:wall:-1: VK error 5: token {TOKEN} rejected\nmore")) == \
        "vk:wall:-1: VK error 5: token *** rejected"


COMPLAINT = "Жалоба: во дворе ул. Гоголя 5 нет воды третий день, Иванова Мария"


class DuplicatingCollector:
    """A collector whose poll fails on the database with a complaint text among the statement's values."""

    def __init__(self, sessions):
        from tests.stages.test_collect import CFG

        self.source, self.sessions = CFG, sessions

    def fetch(self, cursor):
        from storage.tables import Source

        for _ in range(2):
            with self.sessions.begin() as s:
                s.execute(sa.insert(Source).values(key=COMPLAINT, platform="vk", handle=COMPLAINT))
        yield from ()


@pytest.mark.parametrize("fmt", ["text", "json"])
def test_database_errors_in_tracebacks_carry_no_parameters_or_values(sessions, capsys, fmt):
    """"failed unexpectedly" tracebacks show the error's first line, not the SQL values or PostgreSQL's DETAIL."""
    from storage.sources import sync_sources
    from tests.stages.test_collect import CFG
    from tsur.stages.collect import collect_source

    with sessions.begin() as s:
        sync_sources(s, [CFG])
    setup_logging("INFO", fmt)
    try:
        out = collect_source(sessions, CFG.key, DuplicatingCollector(sessions), worker="w")
    finally:
        setup_logging("WARNING")
    err = capsys.readouterr().err
    assert out.status == "retry" and "failed unexpectedly" in err and "IntegrityError" in err
    assert "Гоголя" not in err and "Traceback" in err
    assert "Гоголя" not in out.error


def test_engines_hide_statement_parameters(sessions):
    from storage.tables import Source

    with pytest.raises(sa.exc.IntegrityError) as caught:
        for _ in range(2):
            with sessions.begin() as s:
                s.execute(sa.insert(Source).values(key=COMPLAINT, platform="vk", handle="h"))
    assert "[SQL parameters hidden due to hide_parameters=True]" in str(caught.value)
