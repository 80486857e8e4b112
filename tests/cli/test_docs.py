"""Every command and group is documented with an example; errors are one line."""
from __future__ import annotations

import typer

from tsur.cli import app


def _walk(command, path=("tsur",)):
    yield path, command
    for name, sub in (getattr(command, "commands", None) or {}).items():
        yield from _walk(sub, (*path, name))


def test_every_command_has_help_with_an_example():
    commands = list(_walk(typer.main.get_command(app)))
    assert len(commands) >= 30
    undocumented = [" ".join(p) for p, c in commands if "Example:" not in (c.help or "")]
    assert undocumented == []
    for path, command in commands:
        example = (command.help or "").split("Example:")[1].strip().splitlines()[0]
        assert example.startswith("tsur"), (path, example)
        if len(path) > 1:
            assert path[-1] in example, (path, example)


def test_every_option_has_help():
    missing = [f"{' '.join(p)} {param.name}" for p, c in _walk(typer.main.get_command(app))
               for param in getattr(c, "params", []) if not getattr(param, "help", None)]
    assert missing == []


def test_library_errors_are_one_clean_line(tmp_path):
    from tests.cli.conftest import Cli

    cases = [
        (Cli("postgresql+psycopg://nobody@127.0.0.1:1/none"), ("review", "list"), "error: database "),
        (Cli(f"sqlite:///{tmp_path / 'x.db'}"), ("--config", str(tmp_path / "missing.toml"), "stats"),
         "file not found"),
        (Cli(f"sqlite:///{tmp_path / 'x.db'}"), ("run", "collect", "--source", "vk:wall:-5"), "unknown source"),
        (Cli(f"sqlite:///{tmp_path / 'x.db'}"), ("tickets", "reopen", "99", "--reason", "x"), "no ticket 99"),
    ]
    for cli, args, message in cases:
        if args[0] == "--config":
            result = cli.runner.invoke(__import__("tsur.cli", fromlist=["app"]).app,
                                       [args[0], args[1], "--database-url", cli.url, *args[2:]])
        else:
            result = cli(*args, ok=False)
        assert result.exit_code == 2, (args, result.output)
        assert result.stderr.startswith("error: ") and message in result.stderr, (args, result.stderr)
        assert len(result.stderr.strip().splitlines()) == 1 and result.stdout == ""


def _examples():
    """Every `tsur …` command line after an `Example:` in any help text, with the command it documents."""
    for path, command in _walk(typer.main.get_command(app)):
        lines = (command.help or "").split("Example:", 1)[1].splitlines() if "Example:" in (command.help or "") else []
        for line in lines:
            text = line.split("Example:", 1)[-1].strip()
            if text.startswith("tsur "):
                yield " ".join(path), text


def _parse(root, args: list[str]) -> None:
    """Parse a command line through the real groups and commands as click would, without running anything."""
    ctx = root.make_context("tsur", list(args), resilient_parsing=False)
    command = root
    while hasattr(command, "resolve_command"):
        rest = [*ctx._protected_args, *ctx.args]
        name, command, rest = command.resolve_command(ctx, rest)
        ctx = command.make_context(name, rest, parent=ctx)


def test_every_help_example_parses_against_the_real_app():
    """A wrong example (an unknown option, a missing argument, a renamed command) fails here."""
    import shlex

    from tests.cli.test_models_e2e import ROOT

    root = typer.main.get_command(app)
    examples = list(_examples())
    assert len(examples) >= 40
    for where, line in examples:
        for one in line.split("&&"):
            args = shlex.split(one)[1:]
            try:
                _parse(root, args)
            except Exception as exc:  # noqa: BLE001 - click's usage errors and anything else
                raise AssertionError(f"{where}: example {one.strip()!r} does not parse: {exc}") from None
            for token in args:  # files of the repo an example names must exist
                for part in token.split(":"):
                    if part.startswith("samples/"):
                        assert (ROOT / part).exists(), f"{where}: example {one.strip()!r} names a missing {part}"


def readme_examples(path) -> list[str]:
    """Every `tsur …` command line in the fenced shell blocks of a README (comments dropped, `&&` split)."""
    import shlex

    lines, fenced = [], False
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("```"):
            fenced = not fenced
        elif fenced:
            for one in line.split("&&"):
                args = shlex.split(one, comments=True)
                if args and args[0] == "tsur":
                    lines.append(args)
    return lines


def test_every_readme_example_parses_against_the_real_app():
    """The command overviews in README.md and routing/README.md name only commands and options that exist."""
    from pathlib import Path

    root, app_command = Path(__file__).resolve().parents[2], typer.main.get_command(app)
    examples = [(name, args) for name in ("README.md", "routing/README.md") for args in readme_examples(root / name)]
    assert len(examples) >= 20 and any(args[:3] == ["tsur", "stats", "--of"] for _, args in examples)
    for name, args in examples:
        try:
            _parse(app_command, args[1:])
        except Exception as exc:  # noqa: BLE001 - click's usage errors and anything else
            raise AssertionError(f"{name}: example {' '.join(args)!r} does not parse: {exc}") from None
