"""Bad inputs the property tests once found escaping as tracebacks (non-UTF-8 files, renamed CSV headers,
unprintable setting names); each is now a clear one-line error, and these tests keep it so."""
from __future__ import annotations

import shutil

import pytest

from collectors.sources_file import load_sources
from nlp.geo.errors import GazetteerError
from nlp.geo.gazetteer import REGIONS, load_from
from routing.errors import RulesError
from routing.policy import CONFIG, load_policy
from tests.property.strategies import one_line
from tsur.settings import ConfigError, load_settings

NOT_UTF8 = b"\xff\xfe\x00[tsur]\n"


def policy_copy(tmp_path):
    target = tmp_path / "config"
    shutil.copytree(CONFIG, target, ignore=shutil.ignore_patterns("regions"))
    return target


def test_settings_file_not_utf8(tmp_path):
    (tmp_path / "tsur.toml").write_bytes(NOT_UTF8)
    with pytest.raises(ConfigError, match="tsur.toml"):
        load_settings(tmp_path / "tsur.toml")


def test_sources_file_not_utf8(tmp_path):
    (tmp_path / "sources.toml").write_bytes(NOT_UTF8)
    with pytest.raises(ConfigError, match="sources.toml"):
        load_sources(tmp_path / "sources.toml")


def test_unknown_setting_name_with_a_newline_is_one_line(tmp_path):
    (tmp_path / "tsur.toml").write_text('"bad\\nname" = 1\n', encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        load_settings(tmp_path / "tsur.toml")
    assert one_line(err.value), str(err.value)


@pytest.mark.parametrize("name", ["routing.toml", "delivery.toml", "agencies.csv"])
def test_policy_file_not_utf8(tmp_path, name):
    folder = policy_copy(tmp_path)
    (folder / name).write_bytes(NOT_UTF8 + (folder / name).read_bytes())
    with pytest.raises(RulesError, match=name):
        load_policy(folder)


@pytest.mark.parametrize("name, column", [("routing_topics.csv", "topic"),
                                          ("routing_municipalities.csv", "municipality")])
def test_policy_csv_with_a_wrong_header(tmp_path, name, column):
    folder = policy_copy(tmp_path)
    text = (folder / name).read_text(encoding="utf-8")
    (folder / name).write_text(text.replace(column, column.upper(), 1), encoding="utf-8")
    with pytest.raises(RulesError, match=name):
        load_policy(folder)


def test_gazetteer_not_utf8(tmp_path):
    for name in ("places.csv", "names.csv"):
        shutil.copy(REGIONS / "crimea" / name, tmp_path / name)
    (tmp_path / "names.csv").write_bytes((tmp_path / "names.csv").read_bytes() + b"\xff\xfe,1,name,0,0.5\n")
    with pytest.raises(GazetteerError, match="names.csv"):
        load_from(tmp_path, "crimea")
