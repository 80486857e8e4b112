"""`tsur`: the command line for ops (review, tickets, sources, stats) and analysts (labels, models).

Example: tsur --json review list --municipality Ялта
"""
from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from routing import cli as routing_cli
from tsur.cli import db, labels, model_eval, models, quarantine, review, run, sources, stats, tickets
from tsur.cli.errors import CleanErrors
from tsur.cli.state import State, default_actor

app = typer.Typer(cls=CleanErrors, no_args_is_help=True, add_completion=False,
                  help=__doc__, pretty_exceptions_enable=False)


@app.callback()
def main(
    ctx: typer.Context,
    config: Optional[Path] = typer.Option(None, "--config", help="TOML config file (over config/defaults.toml)."),
    database_url: Optional[str] = typer.Option(None, "--database-url",
                                               help="SQLAlchemy URL (default: from settings)."),
    data_dir: Optional[Path] = typer.Option(None, "--data-dir", help="Where the SQLite database (tsur.db) and local "
                                            "state live, as run_pipeline.py --data-dir (default: $TSUR_DATA_DIR, "
                                            "else var)."),
    actor: Optional[str] = typer.Option(None, "--actor", help="Who acts, for labels and ticket history "
                                        "(default: $TSUR_ACTOR or the OS user)."),
    json_out: bool = typer.Option(False, "--json", help="Print lists and results as JSON for scripts."),
) -> None:
    """tsur-monitor command line: review queue, tickets, sources, stats, labels and models.

    Example: tsur --data-dir var/demo review list --agency Минздрав
    """
    st = State(config=config, database_url=database_url, data_dir=data_dir, actor=actor or default_actor(),
               json=json_out)
    ctx.obj = st
    ctx.call_on_close(st.close)


review.register(app)
app.add_typer(review.app, name="review")
app.add_typer(tickets.app, name="tickets")
app.add_typer(sources.app, name="sources")
app.add_typer(quarantine.app, name="quarantine")
app.command("stats")(stats.stats)
app.add_typer(run.app, name="run")
app.add_typer(db.app, name="db")
app.add_typer(labels.app, name="labels")
app.add_typer(models.app, name="models")  # model_eval adds evaluate and compare to it
app.add_typer(routing_cli.app, name="routing")  # routing check / routing replay
__all__ = ["app", "model_eval"]
