"""`tsur stats --of posts`: analysed items (each by its latest analysis) per topic group or municipality, with
complaints, notices, other and high importance; tickets stay the default."""
from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from storage.tables import AnalysisRow, Item, utcnow
from tests.cli.conftest import ROAD_TEXT, Cli, route, seed

YALTA, ALUSHTA = "городской округ Ялта", "городской округ Алушта"
NOTICE = {"genre": "notice", "complaint_proba": 0.12, "topic_group": "ЖКХ"}


def _posts(sessions) -> dict[str, int]:
    """Complaints, a notice, other, analyses made before genres, an edited item and an old one."""
    recent = utcnow() - timedelta(hours=2)
    pks = {
        "road": seed(sessions, ROAD_TEXT, genre="complaint", published_at=recent),
        "outage": seed(sessions, "Уведомляем: аварийное отключение воды в Ялте до 18:00", importance="high",
                       published_at=recent, **NOTICE),
        "thanks": seed(sessions, "Спасибо коммунальщикам Ялты", genre="other", complaint_proba=0.1,
                       topic_group="ЖКХ", published_at=recent),
        "old_complaint": seed(sessions, "Нет воды в Алуште", topic_group="ЖКХ", municipality=ALUSHTA,
                              published_at=recent),
        "old_other": seed(sessions, "Хорошая погода в Алуште", topic_group=None, complaint_proba=0.1,
                          municipality=ALUSHTA, published_at=recent),
        "edited": seed(sessions, "Яма на дороге в Алуште", genre="complaint", municipality=ALUSHTA,
                       published_at=recent),
        "last_year": seed(sessions, "Яма на дороге в Ялте, прошлогодняя", genre="complaint",
                          published_at=utcnow() - timedelta(days=400)),
    }
    with sessions.begin() as s:  # the edit: its latest analysis (revision 2) is a notice about ЖКХ in Алушта
        item = s.get(Item, pks["edited"])
        item.revision = 2
        s.add(AnalysisRow(item_pk=item.id, revision=2, model_version="test", is_complaint=False, topic_proba=0.9,
                          municipality=ALUSHTA, geo_confidence=0.9, importance="normal", **NOTICE))
    route(sessions)
    return pks


def test_posts_by_topic_group_and_municipality(db):
    url, sessions = db
    cli = Cli(url)
    _posts(sessions)
    columns = ("posts", "complaints", "notices", "other", "high")
    by_topic = {r["name"]: tuple(r[c] for c in columns) for r in cli.json("stats", "--of", "posts")}
    assert by_topic == {"ЖКХ": (4, 1, 2, 1, 1), "Дороги": (2, 2, 0, 0, 0), "(no topic)": (1, 0, 0, 1, 0)}
    by_place = {r["name"]: tuple(r[c] for c in columns)
                for r in cli.json("stats", "--of", "posts", "--by", "municipality")}
    assert by_place == {YALTA: (4, 2, 1, 1, 1), ALUSHTA: (3, 1, 1, 1, 0)}
    recent = {r["name"]: r["posts"] for r in cli.json("stats", "--of", "posts", "--by", "municipality",
                                                       "--since", "30d")}
    assert recent == {YALTA: 3, ALUSHTA: 3}
    table = cli("stats", "--of", "posts", "--since", "30d").stdout
    assert all(h in table for h in ("Topic group", "Posts", "Complaints", "Notices", "Other", "High")), table
    assert "(no topic)" in table


def test_tickets_stay_the_default_and_notices_stay_out_of_review(lite):
    url, sessions = lite
    cli = Cli(url)
    pks = _posts(sessions)
    tickets = cli.json("stats")
    assert sum(r["tickets"] for r in tickets) == sum(r["tickets"] for r in cli.json("stats", "--of", "tickets"))
    assert set(tickets[0]) >= {"name", "tickets", "open", "items"}
    assert pks["outage"] not in {e["id"] for e in cli.json("review", "list")}
    with sessions() as s:
        assert s.scalar(sa.select(sa.func.count()).select_from(AnalysisRow).where(AnalysisRow.genre == "notice")) == 2


def test_posts_by_agency_is_refused_in_one_line(lite):
    url, _ = lite
    for args in (("--of", "posts", "--by", "agency"), ("--of", "tickets", "--by", "topic_group")):
        result = Cli(url)("stats", *args, ok=False)
        assert result.exit_code == 2 and result.stdout == "", result.output
        assert result.stderr.startswith("error: ") and len(result.stderr.strip().splitlines()) == 1
    assert "posts have no agency" in Cli(url)("stats", "--of", "posts", "--by", "agency", ok=False).stderr


def test_show_item_prints_the_genre(lite):
    url, sessions = lite
    cli = Cli(url)
    pks = _posts(sessions)
    shown = cli("show", "item", str(pks["outage"])).stdout
    assert "genre notice" in shown and "decision: ignore by rule notice" in shown and "official notice" in shown
    assert "genre - (analysed before genres)" in cli("show", "item", str(pks["old_complaint"])).stdout
    assert cli.json("show", "item", str(pks["outage"]))["analysis"]["genre"] == "notice"
