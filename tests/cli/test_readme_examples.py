"""Every `tsur …` example of README.md runs as written, in order, on the database of the README's demo.

The demo (`run_pipeline.py --once --sources samples/sources.toml`) is built once per session; each README block
runs on its own copy of it, so corrections (reassign, close, merge) happen in the README's order and nowhere else.
A block that needs what the demo lacks says so in an HTML comment on the line before it (`<!-- needs: shared -->`)
and is skipped only when that is absent.
"""
from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from typer.testing import CliRunner

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
NEEDS = re.compile(r"^<!--\s*needs:\s*([\w, ]+?)\s*-->$")
# the settings the examples must not inherit from the developer's shell: the test names the database itself
UNSET = ("TSUR_DATABASE_URL", "TSUR_DATA_DIR", "TSUR_CONFIG", "TSUR_CONFIG_DIR", "TSUR_MODELS_DIR", "TSUR_SOURCES_FILE")


def readme_blocks(path: Path) -> list[tuple[int, tuple[str, ...], list[list[str]]]]:
    """The fenced blocks with `tsur …` lines: (line number, what the block needs, its command lines, `&&` split)."""
    blocks, fenced, needs, previous = [], None, (), ""
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if line.startswith("```"):
            if fenced is None:
                match = NEEDS.match(previous.strip())
                needs = tuple(n.strip() for n in match[1].split(",")) if match else ()
                fenced = (number, [])
            else:
                if fenced[1]:
                    blocks.append((fenced[0], needs, fenced[1]))
                fenced = None
        elif fenced is not None:
            for one in line.split("&&"):
                args = shlex.split(one, comments=True)
                if args and args[0] == "tsur":
                    fenced[1].append(args)
        if line.strip():
            previous = line
    return blocks


BLOCKS = readme_blocks(README)


def test_the_readme_has_its_example_blocks():
    assert len(BLOCKS) >= 2 and sum(len(commands) for _, _, commands in BLOCKS) >= 25
    assert all(set(needs) <= {"shared", "postgres"} for _, needs, _ in BLOCKS), [b[:2] for b in BLOCKS]
    assert sum(1 for _, needs, _ in BLOCKS if needs) <= 1  # exceptions stay few


def clean_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k not in UNSET}


@pytest.fixture(scope="session")
def demo(tmp_path_factory) -> Path:
    """The data directory of the README's first command, run once."""
    data = tmp_path_factory.mktemp("demo")
    proc = subprocess.run([sys.executable, "run_pipeline.py", "--once", "--sources", "samples/sources.toml",
                           "--data-dir", str(data)], cwd=ROOT, capture_output=True, text=True, timeout=300,
                          env=clean_env())
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert (data / "tsur.db").is_file() and "Decisions:" in proc.stdout
    return data


@pytest.mark.slow
@pytest.mark.parametrize("line, needs, commands", BLOCKS, ids=[f"README-line-{b[0]}" for b in BLOCKS])
def test_every_readme_example_runs_on_the_demo(request, demo, tmp_path, monkeypatch, line, needs, commands):
    """Each command of the block, in order, on a copy of the demo: exit code 0 and no error line."""
    from tsur.cli import app

    for need in needs:  # skips (or fails under TSUR_REQUIRE_…) when the thing is absent
        request.getfixturevalue({"shared": "shared_data", "postgres": "pg_base_url"}[need])
    data = tmp_path / "data"
    shutil.copytree(demo, data)
    models = tmp_path / "models"  # `models train` and `models promote` write here, not into the project
    shutil.copytree(ROOT / "models", models)
    work = tmp_path / "work"  # the working directory: files the examples write land here; config/ is the project's
    work.mkdir()
    (work / "config").symlink_to(ROOT / "config", target_is_directory=True)
    monkeypatch.chdir(work)
    runner = CliRunner()
    env = {"COLUMNS": "200", "TSUR_MODELS_DIR": str(models), **{k: None for k in UNSET if k != "TSUR_MODELS_DIR"}}
    outputs = {}
    for args in commands:
        result = runner.invoke(app, ["--data-dir", str(data), *args[1:]], env=env)
        shown = " ".join(args)
        assert result.exit_code == 0, f"README.md line {line}+: {shown} → {result.exit_code}\n{result.output}" \
                                      f"\n{result.exception!r}"
        outputs[shown] = result.stdout
    for shown, out in outputs.items():
        if shown.startswith("tsur tickets overdue --at"):  # the demo's tickets are due within working days
            assert "no overdue tickets" not in out and "Overdue tickets" in out, out
        if shown.startswith("tsur stats --of posts"):  # the demo's posts were published 16–22 November 2026
            assert "no analysed posts" not in out, out
        if shown.startswith("tsur tickets close"):
            assert "answered → closed (satisfied)" in out, out


def test_data_dir_names_the_database(tmp_path):
    """`tsur --data-dir D` reads D/tsur.db, as run_pipeline.py --data-dir does; a missing one is one error line."""
    from tsur.cli import app

    result = CliRunner().invoke(app, ["--data-dir", str(tmp_path / "nowhere"), "review", "list"],
                                env={k: None for k in UNSET})
    assert result.exit_code == 2
    assert f"database {tmp_path / 'nowhere' / 'tsur.db'} does not exist" in result.stderr


NOW = datetime(2026, 12, 5, 15, 0, tzinfo=timezone.utc)  # a Saturday, 18:00 in Simferopol
MSK = ZoneInfo("Europe/Simferopol")


@pytest.mark.parametrize("text, expected", [
    (None, NOW),
    ("+2h", NOW + timedelta(hours=2)),
    (" +1w ", NOW + timedelta(days=7)),
    ("2026-12-07 18:00", datetime(2026, 12, 7, 15, 0, tzinfo=timezone.utc)),
    ("2026-12-07", datetime(2026, 12, 6, 21, 0, tzinfo=timezone.utc)),
    ("2026-12-07T18:00+00:00", datetime(2026, 12, 7, 18, 0, tzinfo=timezone.utc)),
])
def test_parse_when(text, expected):
    from tsur.cli.output import parse_when

    assert parse_when(text, NOW, MSK) == expected


@pytest.mark.parametrize("text, message", [("tomorrow", "bad time"), ("+3x", "bad duration"), ("+", "bad duration")])
def test_parse_when_refuses(text, message):
    from tsur.cli.output import parse_when

    with pytest.raises(ValueError, match=message):
        parse_when(text, NOW, MSK)


@pytest.mark.parametrize("text, expected", [
    (None, None),
    ("7d", NOW - timedelta(days=7)),
    ("2026-11-16", datetime(2026, 11, 15, 21, 0, tzinfo=timezone.utc)),
])
def test_parse_since(text, expected):
    from tsur.cli.output import parse_since

    assert parse_since(text, NOW, MSK) == expected


def test_parse_since_refuses():
    from tsur.cli.output import parse_since

    with pytest.raises(ValueError, match="bad --since 'last week'"):
        parse_since("last week", NOW, MSK)
