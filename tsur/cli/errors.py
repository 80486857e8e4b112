"""One place that turns library errors into `error: <one line>` and exit code 2."""
from __future__ import annotations

import typer
from typer.core import TyperGroup

EXIT_ERROR = 2


def known_errors() -> tuple[type[BaseException], ...]:
    """Errors the library raises on purpose; anything else is a bug and keeps its traceback."""
    from sqlalchemy.exc import SQLAlchemyError

    from storage.db import DatabaseUnavailable
    from tsur.settings import ConfigError

    found: list[type[BaseException]] = [ConfigError, DatabaseUnavailable, KeyError, ValueError, LookupError,
                                        OSError, SQLAlchemyError]
    for module, name in (("routing.errors", "RoutingError"), ("nlp.artifacts", "ArtifactError"),
                         ("nlp.geo.errors", "GeoError"), ("collectors.errors", "Fatal")):
        try:
            found.append(getattr(__import__(module, fromlist=[name]), name))
        except (ImportError, AttributeError):
            continue
    return tuple(found)


def one_line(exc: BaseException) -> str:
    """The first line of an error's message (KeyError without its quotes)."""
    text = str(exc.args[0]) if isinstance(exc, KeyError) and exc.args else str(exc)
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return lines[0] if lines else exc.__class__.__name__


class CleanErrors(TyperGroup):
    """The root group: library errors from any subcommand become one clean line."""

    def invoke(self, ctx: typer.Context):
        try:
            return super().invoke(ctx)
        except known_errors() as exc:
            typer.echo(f"error: {one_line(exc)}", err=True)
            raise typer.Exit(EXIT_ERROR) from None
