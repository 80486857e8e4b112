"""Settings precedence (defaults < file < env < flags), secrets only from the environment, clear errors."""
from __future__ import annotations

import logging

import pytest

from collectors.sources_file import load_sources
from nlp.geo.errors import GazetteerError
from tsur.logs import setup_logging
from tsur.settings import ConfigError, load_settings


def test_precedence(tmp_path, monkeypatch):
    monkeypatch.delenv("TSUR_ANALYSE_BATCH", raising=False)
    assert load_settings().analyse_batch == 500  # config/defaults.toml
    cfg = tmp_path / "tsur.toml"
    cfg.write_text("[tsur]\nanalyse_batch = 100\nroute_batch = 7\n")
    assert load_settings(cfg).analyse_batch == 100
    monkeypatch.setenv("TSUR_ANALYSE_BATCH", "50")
    s = load_settings(cfg)
    assert (s.analyse_batch, s.route_batch) == (50, 7)
    assert load_settings(cfg, analyse_batch=10).analyse_batch == 10


def test_secret_in_file_refused(tmp_path):
    cfg = tmp_path / "tsur.toml"
    cfg.write_text('[tsur]\nvk_token = "abc"\n')
    with pytest.raises(ConfigError, match="secrets must come from the environment.*vk_token"):
        load_settings(cfg)


def test_bad_file_names_file_and_line(tmp_path):
    cfg = tmp_path / "tsur.toml"
    cfg.write_text("[tsur]\nanalyse_batch = = 3\n")
    with pytest.raises(ConfigError, match=r"tsur.toml: .*line 2"):
        load_settings(cfg)
    cfg.write_text("[tsur]\nanalyse_batch = 'many'\n")
    with pytest.raises(ConfigError, match="analyse_batch"):
        load_settings(cfg)
    cfg.write_text("[tsur]\nbatch_size = 3\n")
    with pytest.raises(ConfigError, match="unknown setting.*batch_size"):
        load_settings(cfg)


def test_secret_never_printed(monkeypatch, capsys):
    monkeypatch.setenv("TSUR_VK_TOKEN", "vk1.a.supersecrettoken")
    s = load_settings()
    assert "supersecret" not in repr(s) and "supersecret" not in str(s.model_dump())
    assert s.secret("vk_token") == "vk1.a.supersecrettoken"
    setup_logging("INFO", "json", [s.secret("vk_token")])
    logging.getLogger("t").error("request failed: https://api.vk.com/method/wall.get?access_token=%s", s.secret("vk_token"))
    err = capsys.readouterr().err
    assert "supersecret" not in err and "***" in err
    setup_logging("WARNING")


SOURCES_OK = """
[[source]]
type = "vk_wall"
handle = "-100001"
kind = "госпаблик"
home_municipality = "городской округ Ялта"

[[source]]
type = "tg_channel"
handle = "simf_news"
interval = 300
"""


def test_sources_file(tmp_path):
    path = tmp_path / "sources.toml"
    path.write_text(SOURCES_OK, encoding="utf-8")
    a, b = load_sources(path, {"городской округ Ялта"})
    assert (a.key, a.platform, a.kind, a.home_municipality) == ("vk:wall:-100001", "vk", "госпаблик", "городской округ Ялта")
    assert (b.key, b.interval_s, b.options["type"]) == ("tg:channel:simf_news", 300, "tg_channel")


@pytest.mark.parametrize("text, message", [
    ('[[source]]\ntype = "vk_wall"\nhandle = "-1"\n\n[[source]]\ntype = "ok"\nhandle = "x"\n', r":5: source #2: type"),
    ('[[source]]\ntype = "vk_wall"\nhandle = "-1"\n[[source]]\ntype = "vk_wall"\nhandle = "-1"\n', r":4: .*duplicate.*line 1"),
    ('[[source]]\ntype = "vk_wall"\nhandle = "-1"\nhome_municipality = "Урюпинск"\n', "unknown home_municipality"),
    ('[[source]]\ntype = "replay"\nhandle = "r.jsonl"\nhome_municipality = "городской округ Ялтаа"\n',
     r":1: source #1: unknown home_municipality 'городской округ Ялтаа' \(did you mean 'городской округ Ялта'\?\)"),
    ('[[source]]\ntype = "web"\nhandle = "https://x"\ninterval = 1\n', "interval"),
    ('[[sources]]\ntype = "web"\n', "unknown table"),
])
def test_sources_file_errors_name_line(tmp_path, text, message):
    path = tmp_path / "sources.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError, match=message):
        load_sources(path, {"городской округ Ялта"})


@pytest.mark.parametrize("text, where", [
    ('analyse_batch = "abc"\n', r"tsur.toml:1: setting analyse_batch: .*integer"),
    ('[tsur]\n# batches\nroute_batch = 7\nanalyse_batch = "abc"\n', r"tsur.toml:4: setting analyse_batch"),
    ('[tsur]\nlog_level = "bogus"\n', r"tsur.toml:2: setting log_level: unknown log level 'bogus'"),
    ('[tsur]\nmetrics_port = 99999\n', r"tsur.toml:2: setting metrics_port: .*65535"),
    ('[tsur]\nanalyse_batch = 0\n', r"tsur.toml:2: setting analyse_batch: .*greater than or equal to 1"),
    ('[tsur]\ndatabase_url = "postgresql://tsur:pw@db/tsur"\n',
     r"tsur.toml:2: setting database_url: postgresql://tsur:\*\*\*@db/tsur: .*psycopg2 is not installed; "
     r"use postgresql\+psycopg://"),
    ('[tsur]\ndatabase_url = "not a url"\n', r"tsur.toml:2: setting database_url: not a database URL"),
    ('[tsur]\ndatabase_url = "foo://bar"\n', r"tsur.toml:2: setting database_url: unknown database kind 'foo'"),
    ('[tsur]\nregion = "../etc"\n', r"tsur.toml:2: setting region: .*folder in config/regions"),
])
def test_bad_value_in_file_names_file_and_line(tmp_path, monkeypatch, text, where):
    for name in ("TSUR_ANALYSE_BATCH", "TSUR_LOG_LEVEL", "TSUR_METRICS_PORT", "TSUR_DATABASE_URL", "TSUR_REGION"):
        monkeypatch.delenv(name, raising=False)
    cfg = tmp_path / "tsur.toml"
    cfg.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError, match=where) as err:
        load_settings(cfg)
    assert "\n" not in str(err.value) and "pw" not in str(err.value)


def test_bad_value_from_environment_or_flag_names_it(monkeypatch):
    monkeypatch.setenv("TSUR_METRICS_PORT", "99999")
    with pytest.raises(ConfigError, match=r"^environment TSUR_METRICS_PORT: setting metrics_port: .*65535"):
        load_settings()
    monkeypatch.setenv("TSUR_PSEUDONYM_KEY", "short")
    monkeypatch.delenv("TSUR_METRICS_PORT")
    with pytest.raises(ConfigError, match=r"^environment TSUR_PSEUDONYM_KEY: .*at least 16 bytes") as err:
        load_settings()
    assert "short" not in str(err.value)
    monkeypatch.delenv("TSUR_PSEUDONYM_KEY")
    with pytest.raises(ConfigError, match=r"^--log-level: setting log_level: unknown log level 'bogus'"):
        load_settings(log_level="bogus")
    assert load_settings(log_level="debug").log_level == "DEBUG"


def region_copy(tmp_path, region: str = "testland", drop_key: str | None = None):
    """A config dir whose only gazetteer is a copy of Crimea's named `region`, without the names of `drop_key`."""
    import shutil

    from tsur.settings import ROOT

    config = tmp_path / "config"
    shutil.copytree(ROOT / "config", config, ignore=shutil.ignore_patterns("sources.toml"))
    (config / "regions" / "crimea").rename(config / "regions" / region)
    if drop_key:
        names = config / "regions" / region / "names.csv"
        lines = names.read_text(encoding="utf-8").splitlines(keepends=True)
        names.write_text("".join(line for line in lines if not line.startswith(f"{drop_key},")), encoding="utf-8")
    return config


def test_region_and_config_dir_pick_the_gazetteer(tmp_path, monkeypatch):
    """`region` names config_dir/regions/<region>/; the analyser's geo uses it, and sources are checked on it."""
    from nlp.geo import gazetteer, locate
    from tsur.pipeline import Pipeline, home_municipalities

    monkeypatch.setattr(gazetteer, "DEFAULT", dict(gazetteer.DEFAULT))  # the process-wide default comes back
    assert locate("В Ялте нет воды").municipality == "городской округ Ялта"
    config = region_copy(tmp_path, drop_key="ялта")
    settings = load_settings(data_dir=tmp_path, config_dir=config, region="testland")
    assert "городской округ Ялта" in home_municipalities(settings)
    pipeline = Pipeline(settings, migrate=False)
    assert pipeline.gazetteer.region == "testland"
    assert locate("В Ялте нет воды").municipality is None  # the copy without «Ялта» is in use
    pipeline.close()
    with pytest.raises(GazetteerError, match=r"regions/crimea/places.csv: file not found"):
        Pipeline(load_settings(data_dir=tmp_path, config_dir=config), migrate=False).gazetteer  # noqa: B018


def test_example_sources_file(shared_data):
    """config/sources.example.toml: every municipal administration's site from the shared data, all off."""
    import csv

    from tsur.pipeline import home_municipalities
    from tsur.settings import ROOT

    configs = load_sources(ROOT / "config" / "sources.example.toml", home_municipalities(load_settings()))
    with open(shared_data / "crimea_gazetteer" / "municipalities.csv", newline="", encoding="utf-8") as fh:
        sites = {r["name"]: r["website_2018"] for r in csv.DictReader(fh) if r["website_2018"]}
    assert {c.home_municipality: c.handle for c in configs} == {m: f"http://{w}/" for m, w in sites.items()}
    assert {(c.platform, c.kind, c.enabled) for c in configs} == {("web", "web", False)} and len(configs) == 25
