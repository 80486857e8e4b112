"""One place that turns library errors into `error: <one line>` and exit code 2."""
from __future__ import annotations

import typer
from typer.core import TyperGroup

from tsur.errors import EXIT_ERROR, known_errors, one_line

__all__ = ["EXIT_ERROR", "CleanErrors", "known_errors", "one_line"]


class CleanErrors(TyperGroup):
    """The root group: library errors from any subcommand become one clean line."""

    def invoke(self, ctx: typer.Context):
        try:
            return super().invoke(ctx)
        except known_errors() as exc:
            typer.echo(f"error: {one_line(exc)}", err=True)
            raise typer.Exit(EXIT_ERROR) from None
