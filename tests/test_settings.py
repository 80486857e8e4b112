"""Settings precedence (defaults < file < env < flags), secrets only from the environment, clear errors."""
from __future__ import annotations

import logging

import pytest

from collectors.sources_file import load_sources
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
    ('[[source]]\ntype = "web"\nhandle = "https://x"\ninterval = 1\n', "interval"),
    ('[[sources]]\ntype = "web"\n', "unknown table"),
])
def test_sources_file_errors_name_line(tmp_path, text, message):
    path = tmp_path / "sources.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError, match=message):
        load_sources(path, {"городской округ Ялта"})
