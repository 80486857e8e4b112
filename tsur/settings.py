"""One settings object: config/defaults.toml < config file < environment (TSUR_…) < CLI flags.

Secrets (VK token, Telegram api id/hash/session, pseudonymisation key, delivery secrets) are read
from the environment only; a config file that names one is refused.
"""
from __future__ import annotations

import os
import re
import socket
import tomllib
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, PydanticBaseSettingsSource, SettingsConfigDict

ROOT = Path(__file__).resolve().parents[1]
DEFAULTS_FILE = ROOT / "config" / "defaults.toml"
SECRET_FIELDS = (
    "vk_token", "tg_api_id", "tg_api_hash", "tg_session", "pseudonym_key", "webhook_secret", "smtp_url",
    "smtp_password",
)


class ConfigError(ValueError):
    """A configuration file or value is wrong; the message names the file and, where known, the line."""


class _TomlFile(PydanticBaseSettingsSource):
    """Values from one TOML file ([tsur] table or top level), refusing secrets."""

    def __init__(self, settings_cls: type[BaseSettings], path: Path | None):
        super().__init__(settings_cls)
        self.path = path

    def get_field_value(self, field, field_name):  # pragma: no cover - required by the base class
        return None, field_name, False

    def __call__(self) -> dict[str, Any]:
        if self.path is None:
            return {}
        data = read_toml(self.path)
        values = data.get("tsur", data)
        if not isinstance(values, dict):
            raise ConfigError(f"{self.path}: [tsur] must be a table of settings")
        leaked = sorted(set(values) & set(SECRET_FIELDS))
        if leaked:
            raise ConfigError(f"{self.path}: secrets must come from the environment, not a file: {', '.join(leaked)}")
        unknown = sorted(set(values) - set(self.settings_cls.model_fields))
        if unknown:
            raise ConfigError(f"{self.path}: unknown setting(s): {', '.join(_show(u) for u in unknown)}")
        return values


def _show(name: str) -> str:
    """A setting name as typed, or its repr when it holds characters that would break the line."""
    return name if name.isprintable() else repr(name)


def read_toml(path: Path) -> dict[str, Any]:
    """Parse a TOML file; errors become one line naming the file and line."""
    try:
        with open(path, "rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError:
        raise ConfigError(f"{path}: file not found") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: {exc}") from None
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: not UTF-8 text (byte {exc.start})") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror}") from None


Positive = Annotated[float, Field(gt=0)]
NonNegative = Annotated[float, Field(ge=0)]
Count = Annotated[int, Field(ge=1)]
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


class Settings(BaseSettings):
    """Everything the daemon and the CLI can be told; see config/defaults.toml for the meaning of each."""

    model_config = SettingsConfigDict(env_prefix="TSUR_", extra="forbid", validate_default=True)

    data_dir: Path = Path("var")
    database_url: str | None = None
    region: str = "crimea"
    timezone: str = "Europe/Simferopol"
    config_dir: Path = ROOT / "config"
    sources_file: Path | None = None
    models_dir: Path = ROOT / "models"
    model_version: str | None = None
    replay_dirs: Annotated[list[Path], NoDecode] | None = None  # default: data_dir and the project's samples/

    worker_id: str = Field(default=f"{socket.gethostname()}:{os.getpid()}", min_length=1, max_length=128)
    analyse_batch: Count = 500
    route_batch: Count = 200
    analyse_interval_s: Positive = 5.0
    route_interval_s: Positive = 5.0
    sla_interval_s: Positive = 60.0
    delivery_interval_s: Positive = 15.0
    scheduler_jitter_s: NonNegative = 30.0
    lease_ttl_s: Positive = 600.0
    max_pages_per_poll: Count = 50
    source_silent_after_s: NonNegative = 172800.0

    log_level: str = "INFO"
    log_format: Literal["text", "json"] = "text"
    metrics_port: Annotated[int, Field(ge=0, le=65535)] | None = None
    metrics_host: str = Field(default="127.0.0.1", min_length=1)
    stall_after_s: Positive = 900.0

    http_user_agent: str = "tsur-monitor/0.1 (+https://github.com/tsur-monitor)"
    http_timeout_s: Positive = 20.0
    vk_requests_per_second: Positive = 3.0
    vk_lookback_s: Annotated[int, Field(ge=0)] = 3 * 24 * 3600
    vk_comments_reread_s: NonNegative = 21600.0
    tg_flood_wait_max_s: NonNegative = 300.0
    web_min_interval_s: NonNegative = 2.0
    web_retry_after_max_s: NonNegative = 300.0
    web_max_response_bytes: Annotated[int, Field(ge=1024)] = 5_000_000
    max_text_chars: Annotated[int, Field(ge=1000)] = 20_000
    retention_days: Count | None = None

    vk_token: SecretStr | None = None
    tg_api_id: SecretStr | None = None
    tg_api_hash: SecretStr | None = None
    tg_session: SecretStr | None = None
    pseudonym_key: SecretStr | None = None
    webhook_secret: SecretStr | None = None
    smtp_url: SecretStr | None = None
    smtp_password: SecretStr | None = None

    _config_file: Path | None = None

    @field_validator("replay_dirs", mode="before")
    @classmethod
    def _path_list(cls, value: Any) -> Any:
        if isinstance(value, str):  # TSUR_REPLAY_DIRS="/srv/replays:/data/recorded" (os.pathsep-separated)
            return [p for p in value.split(os.pathsep) if p.strip()]
        return value

    @field_validator("log_level")
    @classmethod
    def _known_level(cls, value: str) -> str:
        level = value.strip().upper()
        level = "WARNING" if level == "WARN" else level
        if level not in LOG_LEVELS:
            raise ValueError(f"unknown log level {value!r}: use one of {', '.join(LOG_LEVELS)}")
        return level

    @field_validator("database_url")
    @classmethod
    def _usable_url(cls, value: str | None) -> str | None:
        if value is not None:
            from storage.db import check_url

            check_url(value)
        return value

    @field_validator("region")
    @classmethod
    def _region_folder(cls, value: str) -> str:
        if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_-]*", value):
            raise ValueError(f"region must be the name of a folder in config/regions/, got {value!r}")
        return value

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r}: use an IANA name, e.g. Europe/Simferopol") from None
        return value

    @field_validator("pseudonym_key")
    @classmethod
    def _long_key(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and len(value.get_secret_value().encode()) < 16:
            raise ValueError("TSUR_PSEUDONYM_KEY must be at least 16 bytes (e.g. `openssl rand -hex 32`)")
        return value

    @classmethod
    def settings_customise_sources(cls, settings_cls, init_settings, env_settings, dotenv_settings, file_secret_settings):
        config_file = os.environ.get("TSUR_CONFIG")
        return (
            init_settings,
            env_settings,
            _TomlFile(settings_cls, Path(config_file) if config_file else None),
            _TomlFile(settings_cls, DEFAULTS_FILE if DEFAULTS_FILE.exists() else None),
        )

    @property
    def db_url(self) -> str:
        """The database URL: explicit, or SQLite in data_dir."""
        return self.database_url or f"sqlite:///{(self.data_dir / 'tsur.db').as_posix()}"

    @property
    def replay_dirs_or_default(self) -> list[Path]:
        """The directories replay sources may read: replay_dirs, else data_dir and the project's samples/."""
        return list(self.replay_dirs) if self.replay_dirs is not None else [self.data_dir, ROOT / "samples"]

    @property
    def sources_path(self) -> Path:
        return self.sources_file or self.config_dir / "sources.toml"

    @property
    def regions_dir(self) -> Path:
        """Where the region gazetteers live: config_dir/regions (the gazetteer of `region` is in <region>/)."""
        return self.config_dir / "regions"

    def secret(self, name: str) -> str | None:
        """The plain value of a secret, for the one place that needs it (never log it)."""
        value = getattr(self, name)
        return value.get_secret_value() if value is not None else None


def load_settings(config_file: Path | None = None, **overrides: Any) -> Settings:
    """Build settings with the documented precedence; CLI flags come in as `overrides`.

    Example: load_settings(Path("/etc/tsur/tsur.toml"), database_url="postgresql+psycopg://…")
    """
    overrides = {k: v for k, v in overrides.items() if v is not None}
    previous = os.environ.get("TSUR_CONFIG")
    if config_file is not None:
        os.environ["TSUR_CONFIG"] = str(config_file)
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        err = exc.errors()[0]
        name = str(err["loc"][0]) if err["loc"] else "settings"
        message = err["msg"].removeprefix("Value error, ")
        origin = value_origin(name, overrides, os.environ.get("TSUR_CONFIG"))
        raise ConfigError(f"{origin}setting {name}: {message}") from None
    finally:
        if config_file is not None:
            if previous is None:
                os.environ.pop("TSUR_CONFIG", None)
            else:
                os.environ["TSUR_CONFIG"] = previous


def value_origin(name: str, overrides: dict[str, Any], config_file: str | None) -> str:
    """Where the value of setting `name` came from, as a message prefix ("tsur.toml:3: ", "TSUR_X: ", "")."""
    if name in overrides:
        return f"--{name.replace('_', '-')}: "
    env = f"TSUR_{name}".upper()
    if any(key.upper() == env for key in os.environ):
        return f"environment {env}: "
    for path in ([Path(config_file)] if config_file else []) + [DEFAULTS_FILE]:
        try:
            data = read_toml(path)
        except ConfigError:
            continue
        values = data.get("tsur", data)
        if isinstance(values, dict) and name in values:
            line = setting_line(path, name)
            return f"{path}:{line}: " if line else f"{path}: "
    return ""


def setting_line(path: Path, name: str) -> int | None:
    """The line of `name = …` in a settings file ([tsur] table or top level), or None."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError):
        return None
    key = re.compile(rf"""\s*(?:{re.escape(name)}|"{re.escape(name)}"|'{re.escape(name)}')\s*=""")
    header = re.compile(r"\s*\[\s*tsur\s*\]\s*(#.*)?$")
    wanted = "[tsur]" if any(header.match(text) for text in lines) else None  # the table the values come from
    section = None
    for n, text in enumerate(lines, 1):
        if text.strip().startswith("["):
            section = "[tsur]" if header.match(text) else text.strip()
        elif section == wanted and key.match(text):
            return n
    return None
