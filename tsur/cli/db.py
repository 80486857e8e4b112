"""Database schema commands."""
from __future__ import annotations

import typer

from tsur.cli.output import say
from tsur.cli.state import state

app = typer.Typer(no_args_is_help=True, help="The database schema.\n\nExample: tsur db upgrade")


@app.command("upgrade")
def upgrade(ctx: typer.Context) -> None:
    """Create the database or upgrade its schema to the newest migration (other commands upgrade an existing one).

    Example: tsur --database-url postgresql+psycopg://tsur@db/tsur db upgrade
    """
    st = state(ctx)
    st.creates = True  # with the stage runs, the command that may create a new SQLite database
    st.engine  # noqa: B018 - opening the engine upgrades the schema
    say(st, f"schema up to date: {st.engine.url.render_as_string(hide_password=True)}",
        {"url": st.engine.url.render_as_string(hide_password=True)})
