"""Bad input is one clean line (`error: …`, exit 2), never a traceback, a silent "nothing" or a wrong result;
names people type (short municipality names) mean the same in every command; times show in the region's zone."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest
import sqlalchemy as sa

from storage.tables import Source, Ticket
from tests.cli.conftest import ROAD_TEXT, Cli, route, seed
from tsur import queries


def _one_error(result, message: str) -> None:
    assert result.exit_code == 2, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception  # no traceback
    assert result.stderr.startswith("error: ") and message in result.stderr, result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def _two_tickets(sessions) -> tuple[int, int]:
    seed(sessions, ROAD_TEXT)
    seed(sessions, "В поликлинике Алушты очереди к врачу по три часа", topic_group="Здравоохранение",
         municipality="городской округ Алушта")
    road, health = (d.ticket_id for d in route(sessions))
    return road, health


def test_huge_durations_are_refused(lite):
    cli = Cli(lite[0])
    _one_error(cli("stats", "--since", "99999999d", ok=False), "duration '99999999d' is too long: at most 36500d")
    _one_error(cli("review", "list", "--max-age", "9999999999d", ok=False), "is too long")
    _one_error(cli("review", "confirm", "--min-age", "999999999999w", "--reason", "x", ok=False), "is too long")
    assert cli.json("stats", "--since", "36500d") == []


def test_negative_limit_is_refused_and_limits_keep_every_row(lite):
    url, sessions = lite
    cli = Cli(url)
    road, health = _two_tickets(sessions)
    for args in (("tickets", "list"), ("review", "list")):
        bad = cli(*args, "--limit", "-1", ok=False)
        assert bad.exit_code == 2 and "--limit" in bad.output and "Traceback" not in bad.output
    assert [t["id"] for t in cli.json("tickets", "list", "--limit", "0")] == [health, road]
    assert [t["id"] for t in cli.json("tickets", "list", "--limit", "1")] == [health]
    with sessions() as s:
        with pytest.raises(ValueError, match="limit must be 0"):
            queries.list_tickets(s, limit=-1)
        with pytest.raises(ValueError, match="limit must be 0"):
            queries.review_queue(s, limit=-1)


def test_ticket_status_filter_is_checked(lite):
    url, sessions = lite
    cli = Cli(url)
    _two_tickets(sessions)
    _one_error(cli("tickets", "list", "--status", "bogus", ok=False),
               "unknown status 'bogus': use one of new, sent, in_progress, answered, closed")
    assert len(cli.json("tickets", "list", "--status", "new")) == 2


def test_web_source_needs_a_url_and_short_municipality_names_work(lite):
    url, sessions = lite
    cli = Cli(url)
    _one_error(cli("sources", "add", "web", "not a url", ok=False), "a web source needs an http(s) URL")
    _one_error(cli("sources", "add", "web", "ftp://example.ru/feed", ok=False), "needs an http(s) URL")
    cli("sources", "add", "--home-municipality", "Ялта", "tg_channel", "yalta_news")
    with sessions() as s:
        home = s.scalar(sa.select(Source.home_municipality).where(Source.key == "tg:channel:yalta_news"))
    assert home == "городской округ Ялта"


def test_reassign_checks_settlement_and_takes_short_municipality_names(lite):
    url, sessions = lite
    cli = Cli(url)
    road, _ = _two_tickets(sessions)  # road: городской округ Ялта
    _one_error(cli("reassign", "ticket", str(road), "--settlement", "Марсоград", "--reason", "x", ok=False),
               "unknown settlement 'Марсоград'")
    _one_error(cli("reassign", "ticket", str(road), "--settlement", "Перевальное", "--reason", "x", ok=False),
               "settlement 'Перевальное' is not in 'городской округ Ялта' (it is in Симферопольский район)")
    _one_error(cli("reassign", "ticket", str(road), "--municipality", "Алушта", "--settlement", "Гаспра",
                   "--reason", "x", ok=False), "is not in 'городской округ Алушта'")
    cli("reassign", "ticket", str(road), "--settlement", "пгт Гаспра", "--reason", "Gaspra, not Yalta itself")
    cli("reassign", "ticket", str(road), "--municipality", "Алушта", "--settlement", "Алушта", "--reason", "Alushta")
    with sessions() as s:
        ticket = s.get(Ticket, road)
        assert (ticket.municipality, ticket.settlement) == ("городской округ Алушта", "Алушта")
    _one_error(cli("reassign", "ticket", str(road), "--municipality", "Атлантида", "--reason", "x", ok=False),
               "unknown municipality 'Атлантида'")


def test_read_only_commands_refuse_a_missing_sqlite_file(tmp_path):
    path = tmp_path / "mistyped" / "dir" / "x.db"
    cli = Cli(f"sqlite:///{path}")
    for args in (("stats",), ("review", "list"), ("tickets", "list"), ("sources", "list"), ("show", "item", "1"),
                 ("run", "failed")):
        _one_error(cli(*args, ok=False), f"database {path} does not exist")
    assert not (tmp_path / "mistyped").exists()
    cli("db", "upgrade")
    assert path.is_file() and cli.json("stats") == []
    fresh = tmp_path / "new" / "tsur.db"  # the stage runs, like the daemon, create the database
    Cli(f"sqlite:///{fresh}", env={"TSUR_DATA_DIR": str(tmp_path)})("run", "sla")
    assert fresh.is_file()


def test_times_are_shown_in_the_region_zone(lite):
    url, sessions = lite
    road, _ = _two_tickets(sessions)
    with sessions.begin() as s:
        s.get(Ticket, road).due_at = datetime(2026, 12, 2, 10, 0, tzinfo=timezone.utc)
    cli = Cli(url)
    assert "2026-12-02 13:00 MSK" in cli("tickets", "list").stdout
    assert "due 2026-12-02 13:00 MSK" in cli("show", "ticket", str(road)).stdout
    assert {t["id"]: t["due_at"] for t in cli.json("tickets", "list")}[road] == "2026-12-02T10:00:00+00:00"
    assert "due 2026-12-02 10:00 UTC" in Cli(url, env={"TSUR_TIMEZONE": "UTC"})("show", "ticket", str(road)).stdout
    _one_error(Cli(url, env={"TSUR_TIMEZONE": "Mars/Olympus"})("tickets", "list", ok=False),
               "unknown time zone 'Mars/Olympus'")
