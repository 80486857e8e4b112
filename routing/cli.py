"""Command line: `python -m routing check` and `python -m routing replay` (also mounted by the main CLI)."""
from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from routing.check import check_rules
from routing.errors import RoutingError
from routing.policy import load_policy

app = typer.Typer(help="Routing rules: validate and try out before adopting.\n\nExample: tsur routing check",
                  no_args_is_help=True)


@app.command()
def check(rules: Optional[Path] = typer.Option(None, help="candidate rules CSV (default config/routing_rules.csv)"),
          config: Optional[Path] = typer.Option(None, help="config directory (default: the repo's config/)")) -> None:
    """Validate rules: unknown agency/topic/municipality, unreachable or shadowed rules.

    Example: tsur routing check --rules /tmp/routing_rules.csv
    """
    try:
        policy = load_policy(config, rules_path=rules, strict=False)
    except RoutingError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2)
    problems = check_rules(policy)
    for problem in problems:
        typer.echo(f"{problem.level}: {policy.rules_path}:{problem.line}: rule {problem.rule!r}: {problem.message}")
    errors = sum(p.level == "error" for p in problems)
    typer.echo(f"{len(policy.rules)} rules, version {policy.version}: {errors} error(s), "
               f"{len(problems) - errors} warning(s)")
    raise typer.Exit(1 if errors else 0)


@app.command()
def replay(rules: Path = typer.Option(..., help="candidate rules CSV"),
           database_url: str = typer.Option(..., envvar="TSUR_DATABASE_URL", help="database with the history"),
           config: Optional[Path] = typer.Option(None, help="config directory (default: the repo's config/)"),
           limit: Optional[int] = typer.Option(None, help="only the latest N decisions")) -> None:
    """Re-route stored history with candidate rules and print what would change (writes nothing).

    Example: tsur routing replay --rules /tmp/routing_rules.csv --database-url sqlite:///var/tsur.db
    """
    from routing.replay import replay as run_replay
    from storage.db import make_engine, make_sessionmaker

    try:
        policy = load_policy(config, rules_path=rules)
    except RoutingError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2)
    engine = make_engine(database_url)
    with make_sessionmaker(engine)() as session:
        report = run_replay(session, policy, limit)
        session.rollback()
    for line in report.lines():
        typer.echo(line)
