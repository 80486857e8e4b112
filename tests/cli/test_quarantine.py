"""`tsur quarantine list|show|retry|drop` on SQLite and PostgreSQL: records a collector quarantined are listed
safely, retried with the current code after a fix (idempotently; a dry run changes nothing), or dismissed."""
from __future__ import annotations

import json

import pytest
import sqlalchemy as sa

from collectors.adapters import adapt_many
from collectors.base import SourceConfig
from collectors.pseudonym import Pseudonymizer
from collectors.replay import ReplayCollector
from collectors.retry import CannotReadapt, readapt
from storage.items import save_page
from storage.quarantine import reason_class
from storage.sources import sync_sources
from storage.tables import Item, QuarantineRecord, Source
from tests.cli.conftest import Cli
from tsur.records import Page
from tsur.stages.collect import collect_source

KEY = "p" * 32
PSEUDONYMIZE = Pseudonymizer(KEY.encode())
REPLAY = SourceConfig(key="replay:x", platform="replay", handle="x.jsonl", options={"type": "replay"})
HOSTILE = "\x1b]8;;http://evil.example\x07click\x1b]8;;\x07 [red]red[/red] \u202egnp.exe\x1b[2J"


def raw_item(item_id: str, published_at: str = "2026-11-20T10:00:00+03:00") -> str:
    payload = {"platform": "vk", "source": "vk:wall:-1", "item_id": item_id, "published_at": published_at,
               "text": f"нет воды {item_id}"}
    return json.dumps({"type": "raw_item", "source": "replay:x", "payload": payload}, ensure_ascii=False)


def quarantine_replay(sessions, tmp_path) -> dict[str, int]:
    """Poll a replay file: one good line, one dated 1999 (refused), one that is not JSON; their quarantine ids."""
    path = tmp_path / "x.jsonl"
    path.write_text("\n".join([raw_item("1"), raw_item("2", "1999-12-31T23:00:00+00:00"), "{not json"]) + "\n",
                    encoding="utf-8")
    with sessions.begin() as s:
        sync_sources(s, [REPLAY])
    outcome = collect_source(sessions, REPLAY.key, ReplayCollector(REPLAY, path, PSEUDONYMIZE), worker="w")
    assert (outcome.status, outcome.new, outcome.quarantined) == ("ok", 1, 2), outcome
    with sessions() as s:
        rows = list(s.scalars(sa.select(QuarantineRecord).order_by(QuarantineRecord.id)))
    return {"old": rows[0].id, "not_json": rows[1].id}


def cli_for(url: str, tmp_path) -> Cli:
    return Cli(url, env={"TSUR_PSEUDONYM_KEY": KEY, "TSUR_DATA_DIR": str(tmp_path)})


def items(sessions) -> list[tuple[str, str]]:
    with sessions() as s:
        return [tuple(r) for r in s.execute(sa.select(Item.source, Item.item_id).order_by(Item.id))]


def record(sessions, record_id: int) -> QuarantineRecord:
    with sessions() as s:
        return s.get(QuarantineRecord, record_id)


def fix_dates(monkeypatch):
    """The "fix": the oldest accepted date moves back to 1990, so the record dated 1999 passes now."""
    from datetime import datetime, timezone

    monkeypatch.setattr("collectors.checks.OLDEST", datetime(1990, 1, 1, tzinfo=timezone.utc))


def test_list_and_show(db, tmp_path):
    url, sessions = db
    ids = quarantine_replay(sessions, tmp_path)
    cli = cli_for(url, tmp_path)
    listed = cli.json("quarantine", "list")
    assert [r["id"] for r in listed["records"]] == [ids["not_json"], ids["old"]]  # newest first
    assert listed["total"] == 2 and {c["source"] for c in listed["summary"]} == {"replay:x"}
    assert "raw_item: published_at N-N-N is outside" in listed["summary"][0]["reason_class"] + \
        listed["summary"][1]["reason_class"]
    assert cli.json("quarantine", "list", "--source", "vk:wall:-9")["total"] == 0
    assert len(cli.json("quarantine", "list", "--limit", "1")["records"]) == 1
    assert cli.json("quarantine", "list", "--since", "1h")["total"] == 2
    table = cli("quarantine", "list").stdout
    assert "x.jsonl:2" in table and "By source and reason" in table
    shown = cli.json("quarantine", "show", str(ids["old"]))
    assert json.loads(shown["raw"]["line"])["payload"]["item_id"] == "2"
    assert '"item_id": "2"' in cli("quarantine", "show", str(ids["old"])).stdout
    missing = cli("quarantine", "show", "999", ok=False)
    assert missing.exit_code == 2 and missing.stderr.startswith("error: no quarantined record 999")


def test_hostile_reason_and_record_are_escaped(db, tmp_path):
    url, sessions = db
    with sessions.begin() as s:
        row = QuarantineRecord(source="replay:x", reason=HOSTILE, raw={"line": HOSTILE})
        s.add(row)
        s.flush()
        record_id = row.id
    cli = cli_for(url, tmp_path)
    for out in (cli("quarantine", "list").stdout, cli("quarantine", "show", str(record_id)).stdout):
        assert "\x1b" not in out and "\u202e" not in out and "\x07" not in out
        assert "[red]red[/red]" in out  # markup shown, not applied
    show = cli("quarantine", "show", str(record_id)).stdout
    assert "\\u001b[2J" in show and "\\u202e" in show  # the stored record, still readable JSON


def test_retry_after_a_fix_is_idempotent(db, tmp_path, monkeypatch):
    url, sessions = db
    ids = quarantine_replay(sessions, tmp_path)
    cli = cli_for(url, tmp_path)
    before = cli.json("quarantine", "retry", str(ids["old"]), str(ids["not_json"]))
    assert before["counts"] == {"stored": 0, "refused": 1, "cannot": 1, "skipped": 0}
    assert "does not parse as JSON" in before["results"][1]["detail"]
    assert record(sessions, ids["old"]).status == "open"
    assert record(sessions, ids["old"]).reason.startswith("x.jsonl:2: raw_item: published_at 1999-12-31 is outside")

    fix_dates(monkeypatch)
    monkeypatch.setattr("collectors.retry.CHUNK", 1)  # one transaction per record
    out = cli("quarantine", "retry", "--source", "replay:x").stdout
    assert f"#{ids['old']} stored item" in out and "(new)" in out
    assert f"#{ids['not_json']} cannot re-adapt: the replay line does not parse as JSON" in out
    assert "2 record(s): 1 stored, 0 still refused, 1 cannot be re-adapted" in out
    assert items(sessions) == [("vk:wall:-1", "1"), ("vk:wall:-1", "2")]
    row = record(sessions, ids["old"])
    assert (row.status, row.resolved_by) == ("retried", "tester") and row.resolved_at is not None
    assert row.resolution.startswith("item ")
    assert cli.json("quarantine", "list")["total"] == 1  # the retried one left the open list

    again = cli.json("quarantine", "retry", str(ids["old"]))
    assert again["results"][0] == {"id": ids["old"], "outcome": "skipped", "detail": "already retried",
                                   "item_pk": None}
    with sessions.begin() as s:  # the same record quarantined twice: the second retry stores nothing new
        twin = QuarantineRecord(source="replay:x", reason="again", raw=row.raw)
        s.add(twin)
        s.flush()
        twin_id = twin.id
    result = cli.json("quarantine", "retry", str(twin_id))["results"][0]
    assert result["outcome"] == "stored" and result["detail"].endswith("(unchanged)")
    assert len(items(sessions)) == 2


def test_dry_run_changes_nothing(db, tmp_path, monkeypatch):
    url, sessions = db
    ids = quarantine_replay(sessions, tmp_path)
    fix_dates(monkeypatch)

    def snapshot():
        with sessions() as s:
            rows = [(r.id, r.status, r.reason, r.resolved_at) for r in s.scalars(sa.select(QuarantineRecord))]
        return rows, items(sessions)

    before = snapshot()
    out = cli_for(url, tmp_path)("quarantine", "retry", "--all", "--dry-run").stdout
    assert f"#{ids['old']} would store (new)" in out and out.strip().splitlines()[-1].startswith("dry run: 2 record(s)")
    assert snapshot() == before


def test_retry_a_live_collectors_record(db, tmp_path, monkeypatch):
    """A record kept as {type, payload} by a live collector (adapt_many) is adapted again by the same adapter."""
    url, sessions = db
    vk = SourceConfig(key="vk:wall:-1", platform="vk", handle="-1", options={"type": "vk_wall"})
    post = {"id": 5, "owner_id": -1, "from_id": 150443210, "date": 946_000_000, "text": "Нет света на Кирова"}
    good, bad = adapt_many([("vk_post", post)], vk, PSEUDONYMIZE)
    assert good == () and "published_at" in bad[0].reason and bad[0].raw["type"] == "vk_post"
    with sessions.begin() as s:
        sync_sources(s, [vk])
        save_page(s, s.scalar(sa.select(Source).where(Source.key == vk.key)), Page((), None, bad))
    cli = cli_for(url, tmp_path)
    record_id = cli.json("quarantine", "list")["records"][0]["id"]
    fix_dates(monkeypatch)
    assert cli.json("quarantine", "retry", "--source", vk.key)["counts"]["stored"] == 1
    with sessions() as s:
        item = s.scalar(sa.select(Item))
    assert (item.item_id, item.text) == ("5", "Нет света на Кирова")
    assert item.author == PSEUDONYMIZE("vk", 150443210)  # the stored pseudonym maps to itself
    assert record(sessions, record_id).status == "retried"


def test_drop_records_who_and_why(db, tmp_path):
    url, sessions = db
    ids = quarantine_replay(sessions, tmp_path)
    cli = cli_for(url, tmp_path)
    assert "dropped 1 record(s)" in cli("quarantine", "drop", str(ids["not_json"]), "-r", "broken export").stdout
    row = record(sessions, ids["not_json"])
    assert (row.status, row.resolved_by, row.resolution) == ("dropped", "tester", "broken export")
    assert "not open, left as they are" in cli("quarantine", "drop", str(ids["not_json"]), "-r", "x").stdout
    assert cli.json("quarantine", "list")["total"] == 1
    assert cli.json("quarantine", "list", "--status", "all")["total"] == 2
    assert cli.json("quarantine", "list", "--status", "dropped")["records"][0]["resolved_by"] == "tester"
    assert cli("quarantine", "drop", "999", "-r", "x", ok=False).stderr.startswith("error: no quarantined record")


def test_retry_needs_ids_or_a_source(lite, tmp_path):
    url, _ = lite
    cli = cli_for(url, tmp_path)
    assert "give record ids" in cli("quarantine", "retry", ok=False).stderr
    assert "not both" in cli("quarantine", "retry", "1", "--all", ok=False).stderr
    assert "no quarantined record 7" in cli("quarantine", "retry", "7", ok=False).stderr
    assert "unknown status" in cli("quarantine", "list", "--status", "gone", ok=False).stderr


def test_reason_class_groups_alike_problems():
    assert reason_class("feed.jsonl:7: vk_post 42: item_id is 300 characters, over 128") == \
        "vk_post: item_id is N characters, over N"
    assert reason_class("x.jsonl:3: raw_item: KeyError: 'text'") == "raw_item: KeyError: '…'"
    assert reason_class("not stored: DataError: value too long") == "not stored: DataError: value too long"


CANNOT = [  # what a quarantine row keeps → why it cannot be adapted again
    (None, "its payload was purged by retention"),
    ({"unstorable": "nested too deep", "text": "{…"}, "the payload could not be stored"),
    ({"type": "vk_post", "payload": {"unstorable": "NaN", "text": "…"}}, "the payload could not be stored"),
    ({"line": '{"type": "raw_item", "payl'}, "the replay line does not parse as JSON"),
    ({"platform": "vk", "source": "vk:wall:-1", "item_id": "9", "kind": "post", "url": None},
     "the database refused it and only its identity was kept"),
    ({"url": "https://example.ru/news", "bytes": 120}, "a page-level problem, no record was kept"),
]


def test_rows_that_cannot_be_readapted_say_why():
    for raw, why in CANNOT:
        with pytest.raises(CannotReadapt, match=why):
            readapt(raw, REPLAY, PSEUDONYMIZE)


def test_nothing_to_retry_needs_no_key(lite, tmp_path):
    url, _ = lite
    out = Cli(url, env={"TSUR_DATA_DIR": str(tmp_path)})("quarantine", "retry", "--all").stdout
    assert out.startswith("nothing to retry") and not (tmp_path / "pseudonym.key").exists()
