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
