"""Sources: add, list, enable/disable, health from the sources, runs and items tables."""
from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import sqlalchemy as sa

from storage.tables import Run, Source, utcnow
from tests.cli.conftest import Cli, seed


def test_add_list_switch(lite):
    url, _ = lite
    cli = Cli(url)
    cli("sources", "add", "--kind", "госпаблик", "--home-municipality", "городской округ Ялта", "vk_wall", "--", "-123")
    assert [s["key"] for s in cli.json("sources", "list")] == ["vk:wall:-123"]
    again = cli("sources", "add", "vk_wall", "--", "-123", ok=False)
    assert again.exit_code == 2 and "already exists" in again.stderr
    assert "unknown municipality" in cli("sources", "add", "tg_channel", "x", "--home-municipality", "Марс",
                                         ok=False).stderr
    assert "unknown source type" in cli("sources", "add", "ok_group", "x", ok=False).stderr
    cli("sources", "disable", "vk:wall:-123", "--reason", "group closed")
    listed = cli.json("sources", "list")[0]
    assert (listed["enabled"], listed["disabled_reason"]) == (False, "group closed (tester)")
    cli("sources", "enable", "vk:wall:-123")
    assert cli.json("sources", "list")[0]["enabled"] is True
    assert cli("sources", "enable", "vk:wall:-999", ok=False).stderr.startswith("error: unknown source")


def test_add_with_collector_options(lite):
    from collectors.pseudonym import Pseudonymizer
    from collectors.registry import build_collector
    from storage.sources import source_config
    from tsur.settings import Settings

    url, sessions = lite
    cli = Cli(url)
    cli("sources", "add", "vk_search", "yalta", "--option", "query=Ялта отключение", "-o", "overlap_s=600")
    cli("sources", "add", "--kind", "web", "web", "https://yalta.rk.gov.ru/news", "-o", "format=html",
        "-o", "item=.news-item", "-o", "date=.news-date")
    with sessions() as s:
        rows = {r.key: r for r in s.scalars(sa.select(Source))}
        configs = {k: source_config(r) for k, r in rows.items()}
    assert configs["vk:search:yalta"].options == {"type": "vk_search", "query": "Ялта отключение", "overlap_s": 600}
    assert configs["web:https://yalta.rk.gov.ru/news"].options == {
        "type": "web", "format": "html", "item": ".news-item", "date": ".news-date"}
    search = build_collector(configs["vk:search:yalta"], Settings(vk_token="t"), Pseudonymizer(b"k" * 32))
    assert search.query == "Ялта отключение" and search.overlap_s == 600
    for args, message in [(("vk_search", "alushta"), "vk_search needs --option query"),
                          (("web", "https://a.ru/n", "-o", "format=html"), "needs --option item"),
                          (("vk_wall", "-o", "qurey=x", "--", "-1"), "unknown option 'qurey' for vk_wall"),
                          (("web", "https://b.ru", "-o", "format=json"), "format: rss or html"),
                          (("vk_search", "x", "-o", "query"), "write it as key=value")]:
        result = cli("sources", "add", *args, ok=False)
        assert result.exit_code == 2 and message in result.stderr and len(result.stderr.splitlines()) == 1, args
    assert len(cli.json("sources", "list")) == 2


def test_health(lite):
    url, sessions = lite
    cli = Cli(url)
    now = utcnow()
    seed(sessions, "свежий пост", source="vk:wall:-1", published_at=now - timedelta(minutes=30))
    seed(sessions, "старый пост", source="tg:channel:old", published_at=now - timedelta(days=2))
    with sessions.begin() as s:
        fresh = s.scalar(sa.select(Source).where(Source.key == "vk:wall:-1"))
        fresh.last_success_at, fresh.interval_s = now - timedelta(minutes=5), 600
        old = s.scalar(sa.select(Source).where(Source.key == "tg:channel:old"))
        old.last_success_at, old.interval_s = now - timedelta(hours=2), 600
        old.consecutive_errors, old.last_error = 4, "Retriable: FloodWait 120"
        for waits in (1.5, 2.0):
            s.add(Run(run_id="r", stage="collect", source="vk:wall:-1", status="ok",
                      counts={"requests": 3, "waits": waits}, started_at=now - timedelta(hours=1)))
    health = {h["key"]: h for h in cli.json("sources", "health")}
    vk, tg = health["vk:wall:-1"], health["tg:channel:old"]
    assert (vk["silent"], vk["requests_24h"], vk["waits_24h_s"], vk["polls_24h"], vk["items_24h"]) == \
        (False, 6, 3.5, 2, 1)
    assert 1700 < vk["content_lag_s"] < 1900 and 250 < vk["since_success_s"] < 400
    assert (tg["silent"], tg["consecutive_errors"], tg["last_error"]) == (True, 4, "Retriable: FloodWait 120")
    assert not {h["key"]: h for h in cli.json("sources", "health", "--silent-factor", "20")}["tg:channel:old"]["silent"]
    table = cli("sources", "health").stdout
    assert "SILENT" in table and "FloodWait" in table


def test_health_flags_a_source_that_polls_fine_but_brings_nothing_new(lite):
    url, sessions = lite
    cli = Cli(url)
    now = utcnow()
    seed(sessions, "давний пост", source="vk:wall:-5", published_at=now - timedelta(days=6))
    with sessions.begin() as s:
        src = s.scalar(sa.select(Source))
        src.last_success_at, src.last_new_item_at = now - timedelta(minutes=5), now - timedelta(days=5)
    (row,) = cli.json("sources", "health")
    assert (row["silent"], row["silent_reason"]) == (True, "no new items") and row["since_new_item_s"] > 4 * 86400
    assert not cli.json("sources", "health", "--no-new-hours", "200")[0]["silent"]
    table = cli("sources", "health").stdout
    assert "SILENT: no new items" in table and "Since new item" in table and "5d" in table


def test_add_checks_home_municipality_against_the_region_gazetteer(lite):
    """`sources add` accepts what the geo analyser accepts (municipalities and Sevastopol's okrugs) and names
    the closest one for a typo."""
    url, _ = lite
    cli = Cli(url)
    cli("sources", "add", "--home-municipality", "Качинский муниципальный округ", "tg_channel", "kacha")
    typo = cli("sources", "add", "--home-municipality", "городской округ Ялтаа", "tg_channel", "yalta", ok=False)
    assert typo.exit_code == 2 and "unknown municipality 'городской округ Ялтаа' (did you mean " \
        "'городской округ Ялта'?)" in typo.stderr and "regions/crimea/places.csv" in typo.stderr
    assert [s["key"] for s in cli.json("sources", "list")] == ["tg:channel:kacha"]


def test_replay_paths_stay_inside_the_replay_directories(db, tmp_path, monkeypatch):
    """`sources add replay` and the replay collector refuse files outside replay_dirs, symlinks followed."""
    from storage.tables import Item, QuarantineRecord

    url, sessions = db
    allowed, private = tmp_path / "replays", tmp_path / "private"
    allowed.mkdir()
    private.mkdir()
    secret = private / "secret"
    secret.write_text('{"line": "not for the database"}\nroot:x:0:0\n', encoding="utf-8")
    secret.chmod(0o600)
    (allowed / "link.jsonl").symlink_to(secret)
    (allowed / "ok.jsonl").write_text("", encoding="utf-8")
    monkeypatch.chdir(allowed)
    cli = Cli(url, env={"TSUR_REPLAY_DIRS": str(allowed)})
    for handle in ("../private/secret", str(secret), str(allowed / "link.jsonl")):
        result = cli("sources", "add", "replay", handle, ok=False)
        assert result.exit_code == 2 and len(result.stderr.splitlines()) == 1, handle
        assert result.stderr.startswith(f"error: replay file {handle} is outside the replay directories ({allowed}")
    cli("sources", "add", "replay", str(allowed / "ok.jsonl"))
    with sessions.begin() as s:  # as an older version or the sources file could have added it
        s.add(Source(key="replay:../private/secret", platform="replay", handle="../private/secret", kind="community",
                     interval_s=600, options={"type": "replay"}, enabled=True))
    cli("run", "collect", ok=False)
    with sessions() as s:
        assert s.scalar(sa.select(sa.func.count()).select_from(QuarantineRecord)) == 0
        assert s.scalar(sa.select(sa.func.count()).select_from(Item)) == 0
        reason = s.scalar(sa.select(Source.disabled_reason).where(Source.key == "replay:../private/secret"))
    assert "outside the replay directories" in reason


def test_replay_dirs_setting(tmp_path, monkeypatch):
    from tsur.settings import ROOT, Settings

    assert Settings(data_dir=tmp_path).replay_dirs_or_default == [tmp_path, ROOT / "samples"]
    monkeypatch.setenv("TSUR_REPLAY_DIRS", f"/srv/a{__import__('os').pathsep}/srv/b")
    assert Settings().replay_dirs_or_default == [Path("/srv/a"), Path("/srv/b")]
