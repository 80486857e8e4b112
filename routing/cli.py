"""Command line: `tsur routing check` and `tsur routing replay` (`python -m routing …` is the same).

Both take the database and the config directory from the same settings as every `tsur` command
(`tsur --config FILE`, `--database-url`, TSUR_DATABASE_URL, TSUR_DATA_DIR, TSUR_CONFIG_DIR), so `check`
validates the rules the daemon loads.
"""
from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from routing.check import check_rules
from routing.errors import RoutingError
from routing.policy import load_policy

app = typer.Typer(help="Routing rules: validate and try out before adopting.\n\n"
                  "Example: tsur routing check", no_args_is_help=True)


def _state(ctx: typer.Context):
    """The `tsur` State of this command; under `python -m routing`, one from the settings alone."""
    from tsur.cli.state import State

    root = ctx.find_root()
    if not isinstance(root.obj, State):
        root.obj = State()
        root.call_on_close(root.obj.close)
    return root.obj


def _load(config_dir: Path, rules: Path | None, strict: bool):
    try:
        return load_policy(config_dir, rules_path=rules, strict=strict)
    except RoutingError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None


@app.command()
def check(ctx: typer.Context,
          rules: Optional[Path] = typer.Option(None, help="candidate rules CSV (default: routing_rules.csv of the "
                                               "config directory in the settings)")) -> None:
    """Validate rules: unknown agency/topic/municipality/settlement, unreachable or shadowed rules.

    Example: tsur routing check --rules /tmp/routing_rules.csv
    """
    policy = _load(_state(ctx).settings.config_dir, rules, strict=False)
    problems = check_rules(policy)
    for problem in problems:
        typer.echo(f"{problem.level}: {policy.rules_path}:{problem.line}: rule {problem.rule!r}: {problem.message}")
    errors = sum(p.level == "error" for p in problems)
    unchecked = "" if policy.settlements is not None else "; settlements not checked (no region places.csv)"
    typer.echo(f"{len(policy.rules)} rules, version {policy.version}: {errors} error(s), "
               f"{len(problems) - errors} warning(s){unchecked}")
    raise typer.Exit(1 if errors else 0)


@app.command()
def replay(ctx: typer.Context, rules: Path = typer.Option(..., help="candidate rules CSV"),
           limit: Optional[int] = typer.Option(None, help="only the latest N decisions")) -> None:
    """Re-route stored history with candidate rules and print what would change (writes nothing).

    Example: tsur --database-url sqlite:///var/tsur.db routing replay --rules /tmp/routing_rules.csv
    """
    from routing.replay import replay as run_replay

    st = _state(ctx)
    policy = _load(st.settings.config_dir, rules, strict=True)
    with st.sessions() as session:
        report = run_replay(session, policy, limit)
        session.rollback()
    for line in report.lines():
        typer.echo(line)
