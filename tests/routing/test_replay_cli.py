"""`routing replay` reports what a candidate rule set would change (and writes nothing); `routing check` CLI."""
from __future__ import annotations

import shutil

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from routing.cli import app
from tsur.cli import app as tsur
from routing.errors import RulesError
from routing.policy import CONFIG, load_policy
from routing.replay import replay
from routing.stage import route_items
from storage.tables import Decision, Ticket
from tests.routing.conftest import NOW, add_pair, config_copy

KERCH_ADMIN = "Администрация городского округа Керчь Республики Крым"
MINZHKH = "Министерство жилищно-коммунального хозяйства Республики Крым"


def candidate(tmp_path, drop: str, extra: str = ""):
    """The repo rules without rule `drop`, plus extra lines."""
    cfg = config_copy(tmp_path / "cand")
    lines = [line for line in (cfg / "routing_rules.csv").read_text(encoding="utf-8").splitlines()
             if not line.startswith(f"{drop},")]
    (cfg / "routing_rules.csv").write_text("\n".join(lines) + "\n" + extra, encoding="utf-8")
    return cfg


def test_replay_shows_changes_by_agency_without_writing(sessions, policy, tmp_path):
    with sessions() as s, s.begin():
        pairs = [add_pair(s, f"Текст номер {n} {'про трубы ' * n}", item_id=f"r{n}") for n in range(3)]
        pairs.append(add_pair(s, "Болит зуб, нет врача", topic_group="Здравоохранение", item_id="h"))
        route_items(s, pairs, now=NOW, policy=policy)
    cand = load_policy(candidate(tmp_path, "zhkh-local"))
    with sessions() as s:
        before = s.scalar(sa.select(sa.func.count()).select_from(Decision)), s.scalar(
            sa.select(sa.func.count()).select_from(Ticket))
        report = replay(s, cand)
        after = s.scalar(sa.select(sa.func.count()).select_from(Decision)), s.scalar(
            sa.select(sa.func.count()).select_from(Ticket))
    assert before == after
    assert (report.total, report.changed) == (4, 3)
    assert dict(report.moves) == {(KERCH_ADMIN, MINZHKH): 3}
    assert [c.new_rule for c in report.examples[(KERCH_ADMIN, MINZHKH)]] == ["zhkh"] * 3
    assert report.lines()[0].endswith("3 of 4 decisions would change")


def test_replay_reports_the_stages_decisions_for_notices(sessions, policy, tmp_path):
    """Notices (high importance or not, with or without a place) are ignored by replay as by the stage: the same
    rules change nothing, a candidate moves only the complaints."""
    notice = {"is_complaint": False, "complaint_proba": 0.12, "genre": "notice"}
    with sessions() as s, s.begin():
        pairs = [add_pair(s, "Уведомляем: плановое отключение воды на Ленина", item_id="n1", **notice),
                 add_pair(s, "Аварийное отключение воды, бригада работает", item_id="n2", importance="high", **notice),
                 add_pair(s, "Уведомляем о ремонте водовода", item_id="n3", municipality=None, **notice),
                 add_pair(s, "Нет воды в доме на улице Ленина", item_id="c1", genre="complaint")]
        decisions = route_items(s, pairs, now=NOW, policy=policy)
    assert [(d.outcome, d.rule) for d in decisions] == [("ignore", "notice")] * 3 + [("create", "zhkh-local")]
    with sessions() as s:
        same = replay(s, policy)
        moved = replay(s, load_policy(candidate(tmp_path, "zhkh-local")))
    assert (same.total, same.changed) == (4, 0)
    assert (moved.total, moved.changed, dict(moved.moves)) == (4, 1, {(KERCH_ADMIN, MINZHKH): 1})


def test_check_command_exit_codes(tmp_path):
    runner = CliRunner()
    ok = runner.invoke(app, ["check"])
    assert ok.exit_code == 0 and "0 error(s)" in ok.output
    bad = candidate(tmp_path, "none", "x,ЖКХ,,,,Нет такого ведомства,\n")
    result = runner.invoke(app, ["check", "--rules", str(bad / "routing_rules.csv")])
    assert result.exit_code == 1
    assert f"routing_rules.csv:{len(open(bad / 'routing_rules.csv').read().splitlines())}: rule 'x': unknown agency" \
        in result.output


def test_replay_command_refuses_bad_rules(tmp_path):
    bad = candidate(tmp_path, "none", "x,ЖКХ,,,,Нет такого ведомства,\n")
    result = CliRunner().invoke(tsur, ["--database-url", f"sqlite:///{tmp_path}/x.db", "routing", "replay", "--rules",
                                       str(bad / "routing_rules.csv")])
    assert result.exit_code == 2 and "unknown agency" in result.output


def test_replay_command_prints_moves(tmp_path, policy):
    from storage.db import make_engine, make_sessionmaker, upgrade

    (tmp_path / "data").mkdir()
    url = f"sqlite:///{tmp_path}/data/tsur.db"
    engine = make_engine(url)
    upgrade(engine)
    with make_sessionmaker(engine)() as s, s.begin():
        route_items(s, [add_pair(s, "Нет воды в доме")], now=NOW, policy=policy)
    engine.dispose()
    cand = candidate(tmp_path, "zhkh-local")
    rules = str(cand / "routing_rules.csv")
    # the database comes from the settings every tsur command uses: --database-url, TSUR_DATABASE_URL, TSUR_DATA_DIR
    for args, env in [(["--database-url", url, "routing", "replay", "--rules", rules], {}),
                      (["routing", "replay", "--rules", rules], {"TSUR_DATABASE_URL": url}),
                      (["routing", "replay", "--rules", rules], {"TSUR_DATA_DIR": str(tmp_path / "data")})]:
        result = CliRunner().invoke(tsur, args, env=env)
        assert result.exit_code == 0, (args, env, result.output)
        assert "1 of 1 decisions would change" in result.output and f"{KERCH_ADMIN}  →  {MINZHKH}" in result.output


def test_check_validates_the_rules_of_the_configured_config_dir(tmp_path):
    """TSUR_CONFIG_DIR (or config_dir in the config file) is what the daemon loads: check validates that."""
    bad = candidate(tmp_path, "none", "x,ЖКХ,,,,Нет такого ведомства,\n")
    result = CliRunner().invoke(tsur, ["routing", "check"], env={"TSUR_CONFIG_DIR": str(bad)})
    assert result.exit_code == 1 and f"{bad / 'routing_rules.csv'}:" in result.output and "unknown agency" in result.output
    assert CliRunner().invoke(tsur, ["routing", "check"]).exit_code == 0


def test_check_reports_a_settlement_not_in_the_rules_municipality(tmp_path):
    cfg = candidate(tmp_path, "none", "ghost,Благоустройство,,Кировский район,Несуществующее,Минздрав РК,\n"
                                      "elsewhere,Благоустройство,,Кировский район,Белогорск,Минздрав РК,\n")
    (cfg / "regions" / "crimea").mkdir(parents=True)
    shutil.copy(CONFIG / "regions" / "crimea" / "places.csv", cfg / "regions" / "crimea" / "places.csv")
    result = CliRunner().invoke(tsur, ["routing", "check"], env={"TSUR_CONFIG_DIR": str(cfg)})
    assert result.exit_code == 1, result.output
    assert "rule 'ghost': unreachable: no settlement 'Несуществующее' in 'Кировский район'" in result.output
    assert "rule 'elsewhere': unreachable: no settlement 'Белогорск' in 'Кировский район'" in result.output
    assert "2 error(s)" in result.output
    with pytest.raises(RulesError, match="2 error"):
        load_policy(cfg)  # the daemon refuses the same rule set
