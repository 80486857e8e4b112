"""Config loaders take any file: a value comes out, or the documented error (ConfigError, RulesError,
GazetteerError) with one line naming the file; never a traceback from deep inside."""
from __future__ import annotations

import csv
import io
import json
import shutil
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from collectors.sources_file import load_sources
from nlp.geo.build import NAME_COLUMNS, PLACE_COLUMNS
from nlp.geo.errors import GazetteerError
from nlp.geo.gazetteer import REGIONS, load_from
from routing.errors import RulesError
from routing.policy import CONFIG, Policy, load_policy
from tests.property.strategies import mixed_text, one_line, toml_value, toml_values
from tsur.settings import SECRET_FIELDS, ConfigError, Settings, load_settings

SETTING_NAMES = sorted(set(Settings.model_fields) - {"_config_file"})
SOURCE_FIELDS = ["type", "handle", "kind", "home_municipality", "interval", "enabled", "options"]
SOURCE_VALUES = {"type": st.sampled_from(["vk_wall", "vk_search", "tg_channel", "web", "replay", "ftp"]),
                 "kind": st.sampled_from(["госпаблик", "community", "media", "web", "blog"]),
                 "interval": st.integers(-5, 100_000), "enabled": st.booleans()}
garbage = st.one_of(st.binary(max_size=300), mixed_text.map(lambda s: s.encode("utf-8", "surrogatepass")),
                    st.just(b""), st.just(b"\xff\xfe\x00["), st.just(b"[[source]]\n[[source]]\ntype = "))


def expect_clean(call, errors, where: Path):
    """Run a loader: its value, or None after checking the error is one line naming the file (or setting)."""
    try:
        return call()
    except errors as exc:
        assert one_line(exc), repr(str(exc))
        assert str(where) in str(exc) or "setting" in str(exc), str(exc)
        return None



def key_value(key: str, value) -> str:
    if isinstance(value, dict):
        inner = ", ".join(f"{json.dumps(k, ensure_ascii=False)} = {toml_value(v)}" for k, v in value.items())
        return f"{json.dumps(key, ensure_ascii=False)} = {{ {inner} }}"
    return f"{json.dumps(key, ensure_ascii=False)} = {toml_value(value)}"


names = st.text(max_size=10)
settings_entries = st.dictionaries(st.one_of(st.sampled_from(SETTING_NAMES + list(SECRET_FIELDS)), names),
                                   toml_values, max_size=6)


@given(settings_entries, st.booleans())
def test_settings_file(tmp_path_factory, entries, in_tsur_table):
    path = tmp_path_factory.mktemp("cfg") / "tsur.toml"
    lines = (["[tsur]"] if in_tsur_table else []) + [key_value(k, v) for k, v in entries.items()]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    try:
        result = load_settings(path)
    except ConfigError as exc:  # every value here comes from the file: the error names it (a bad value too)
        assert one_line(exc) and str(path) in str(exc), str(exc)
        result = None
    if result is not None:
        assert not set(entries) & set(SECRET_FIELDS)  # a secret in a file is always refused


@given(garbage)
def test_settings_file_garbage(tmp_path_factory, data):
    path = tmp_path_factory.mktemp("cfg") / "tsur.toml"
    path.write_bytes(data)
    expect_clean(lambda: load_settings(path), ConfigError, path)


source_entry = st.fixed_dictionaries({}, optional={
    **{f: SOURCE_VALUES.get(f, toml_values) for f in SOURCE_FIELDS if f != "options"},
    "options": st.dictionaries(st.text(max_size=8), toml_values, max_size=3),
    "colour": toml_values})


@given(st.lists(source_entry, max_size=5), st.booleans())
def test_sources_file(tmp_path_factory, entries, extra_table):
    path = tmp_path_factory.mktemp("src") / "sources.toml"
    blocks = ["[[source]]\n" + "\n".join(key_value(k, v) for k, v in e.items()) for e in entries]
    if extra_table:
        blocks.append("[database]\nurl = 1")
    path.write_text("\n\n".join(blocks) + "\n", encoding="utf-8")
    configs = expect_clean(lambda: load_sources(path), ConfigError, path)
    if configs is not None:
        assert len({c.key for c in configs}) == len(configs) == len(entries) and not extra_table


@given(garbage)
def test_sources_file_garbage(tmp_path_factory, data):
    path = tmp_path_factory.mktemp("src") / "sources.toml"
    path.write_bytes(data)
    expect_clean(lambda: load_sources(path), ConfigError, path)


def read_rows(path: Path) -> list[list[str]]:
    with open(path, newline="", encoding="utf-8") as fh:
        return list(csv.reader(fh))


def write_rows(path: Path, rows: list[list[str]]) -> None:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows(rows)
    path.write_text(buf.getvalue(), encoding="utf-8", errors="surrogatepass")


@st.composite
def csv_mutation(draw, rows: list[list[str]]):
    """A copy of `rows` with one cell changed, a cell dropped or added, a row duplicated or cut;
    returns (rows, index of the row touched, operation)."""
    rows = [list(r) for r in rows]
    i = draw(st.integers(0, len(rows) - 1))
    op = draw(st.sampled_from(["cell", "drop", "add", "dup", "cut", "empty"]))
    if op == "cell" and rows[i]:
        j = draw(st.integers(0, len(rows[i]) - 1))
        rows[i][j] = draw(st.one_of(st.text(max_size=30), mixed_text, st.sampled_from(["", "-1", "1e9", "nan"])))
    elif op == "drop" and rows[i]:
        rows[i].pop()
    elif op == "add":
        rows[i].append(draw(st.text(max_size=10)))
    elif op == "dup":
        rows.insert(i, list(rows[i]))
    elif op == "cut":
        rows = rows[:i]
    elif op == "empty":
        rows[i] = []
    return rows, i, op


POLICY_CSV = ["routing_rules.csv", "agencies.csv", "routing_topics.csv", "routing_municipalities.csv"]
POLICY_TOML = ["routing.toml", "delivery.toml"]


@pytest.fixture(scope="module")
def policy_rows():
    return {name: read_rows(CONFIG / name) for name in POLICY_CSV}


def policy_copy(root: Path) -> Path:
    target = root / "config"
    shutil.copytree(CONFIG, target, ignore=shutil.ignore_patterns("regions"))
    return target


@given(st.data(), st.sampled_from(POLICY_CSV))
def test_policy_with_a_mutated_csv(tmp_path_factory, policy_rows, data, name):
    rows, i, op = data.draw(csv_mutation(policy_rows[name]))
    folder = policy_copy(tmp_path_factory.mktemp("pol"))
    write_rows(folder / name, rows)
    policy = expect_clean(lambda: load_policy(folder), RulesError, folder)
    assert policy is None or isinstance(policy, Policy)


@given(st.sampled_from(POLICY_TOML), st.one_of(garbage, settings_entries.map(
    lambda e: "\n".join(key_value(k, v) for k, v in e.items()).encode("utf-8", "surrogatepass"))),
    st.sampled_from(["", "[defaults]\n", "[thresholds]\n", "[sla.crimea]\n", "[[channel]]\n", "[incident]\n"]))
def test_policy_with_a_broken_toml(tmp_path_factory, name, data, table):
    folder = policy_copy(tmp_path_factory.mktemp("pol"))
    original = (folder / name).read_bytes()
    (folder / name).write_bytes(original + b"\n" + table.encode() + data)
    policy = expect_clean(lambda: load_policy(folder), RulesError, folder)
    assert policy is None or isinstance(policy, Policy)


@pytest.fixture(scope="module")
def small_gazetteer():
    """The first 40 places of Crimea and their names (a copy small enough to rewrite per example)."""
    places = read_rows(REGIONS / "crimea" / "places.csv")[:41]
    names = [r for r in read_rows(REGIONS / "crimea" / "names.csv") if r == list(NAME_COLUMNS)
             or (r[1].isdigit() and int(r[1]) < 40)]
    assert places[0] == list(PLACE_COLUMNS) and len(names) > 40
    return {"places.csv": places, "names.csv": names}


@given(st.data(), st.sampled_from(["places.csv", "names.csv"]))
def test_gazetteer_with_a_mutated_csv(tmp_path_factory, small_gazetteer, data, name):
    folder = tmp_path_factory.mktemp("gaz")
    for fname, rows in small_gazetteer.items():
        write_rows(folder / fname, data.draw(csv_mutation(rows))[0] if fname == name else rows)
    gaz = expect_clean(lambda: load_from(folder, "crimea"), GazetteerError, folder)
    if gaz is not None:
        assert all(p.municipality for p in gaz.places)


@given(garbage, st.sampled_from(["places.csv", "names.csv"]))
def test_gazetteer_garbage(tmp_path_factory, small_gazetteer, data, name):
    folder = tmp_path_factory.mktemp("gaz")
    for fname, rows in small_gazetteer.items():
        write_rows(folder / fname, rows)
    (folder / name).write_bytes(data)
    expect_clean(lambda: load_from(folder, "crimea"), GazetteerError, folder)
