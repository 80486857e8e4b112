"""What every command shares: settings, the database (upgraded on first use), the actor, output mode.

Only `tsur db upgrade` and the stage runs (`tsur run collect|analyse|route|sla|deliver|once`, the daemon's work)
create a SQLite database that does not exist yet; any other command refuses a missing file, so a mistyped
--database-url is an error, not a new empty database.
"""
from __future__ import annotations

import getpass
import os
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import typer
from rich.console import Console
from sqlalchemy.orm import Session, sessionmaker

from tsur.settings import Settings, load_settings


def default_actor() -> str:
    """$TSUR_ACTOR, else the OS user."""
    try:
        return os.environ.get("TSUR_ACTOR") or getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


@dataclass
class State:
    """Global options and lazily opened resources; `--help` never touches the database."""

    config: Path | None = None
    database_url: str | None = None
    data_dir: Path | None = None
    actor: str = field(default_factory=default_actor)
    json: bool = False
    console: Console = field(default_factory=Console)
    creates: bool = False  # `db upgrade` and the stage runs may create a missing SQLite file; others refuse it

    @cached_property
    def settings(self) -> Settings:
        import os

        from tsur.logs import settings_secrets, setup_logging

        settings = load_settings(self.config, database_url=self.database_url, data_dir=self.data_dir)
        # the CLI's own output is the result; logs are warnings unless TSUR_LOG_LEVEL asks for more
        level = settings.log_level if "TSUR_LOG_LEVEL" in os.environ else "WARNING"
        setup_logging(level, settings.log_format, settings_secrets(settings))
        return settings

    @cached_property
    def engine(self):
        from storage.db import DatabaseUnavailable, make_engine, upgrade

        missing = None if self.creates else missing_sqlite_file(self.settings.db_url)
        if missing is not None:  # a mistyped path must not become a new, empty database
            raise DatabaseUnavailable(f"database {missing} does not exist: check --database-url or --data-dir, "
                                      "or create it with `tsur db upgrade`")
        engine = make_engine(self.settings.db_url)
        upgrade(engine)
        return engine

    @cached_property
    def sessions(self) -> sessionmaker[Session]:
        from storage.db import make_sessionmaker

        return make_sessionmaker(self.engine)

    @cached_property
    def policy(self):
        from routing.policy import load_policy

        return load_policy(self.settings.config_dir)

    @cached_property
    def tz(self):
        """The region's time zone (setting `timezone`), in which people see times."""
        from zoneinfo import ZoneInfo

        return ZoneInfo(self.settings.timezone)

    @cached_property
    def places(self):
        from tsur.places import load_places

        return load_places(self.settings.config_dir)

    @cached_property
    def pipeline(self):
        from tsur.pipeline import Pipeline

        self.engine  # noqa: B018 - schema upgraded once, through our engine
        return Pipeline(self.settings, migrate=False)

    def close(self) -> None:
        for name in ("pipeline", "engine"):
            obj = self.__dict__.pop(name, None)
            if obj is not None:
                (obj.close if name == "pipeline" else obj.dispose)()


def missing_sqlite_file(url: str) -> Path | None:
    """The path of a SQLite database URL whose file does not exist (None for other URLs and in-memory ones)."""
    import sqlalchemy as sa

    parsed = sa.make_url(url)
    database = parsed.database or ""
    if parsed.get_backend_name() != "sqlite" or database in ("", ":memory:") or database.startswith("file:"):
        return None
    path = Path(database).expanduser()
    return None if path.exists() else path


def state(ctx: typer.Context) -> State:
    """The State of the running command."""
    return ctx.find_root().obj
