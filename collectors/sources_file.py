"""Load config/sources.toml: one [[source]] table per source, validated with file and line in errors.

Example entry:
    [[source]]
    type = "vk_wall"            # vk_wall | vk_search | tg_channel | web | replay
    handle = "-12345678"        # VK owner id / search name / channel username / URL / JSONL path
    kind = "госпаблик"          # госпаблик | community | media | web
    home_municipality = "городской округ Ялта"
    interval = 600              # seconds between polls
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from collectors.base import SourceConfig
from tsur.settings import ConfigError, read_toml

TYPES = {"vk_wall": ("vk", "vk:wall:"), "vk_search": ("vk", "vk:search:"), "tg_channel": ("tg", "tg:channel:"),
         "web": ("web", "web:"), "replay": ("replay", "replay:")}
KINDS = ("госпаблик", "community", "media", "web")


class _SourceEntry(BaseModel):
    model_config = ConfigDict(extra="forbid")

    type: Literal["vk_wall", "vk_search", "tg_channel", "web", "replay"]
    handle: str = Field(min_length=1)
    kind: Literal["госпаблик", "community", "media", "web"] = "community"
    home_municipality: str | None = None
    interval: int = Field(default=600, ge=10)
    enabled: bool = True
    options: dict[str, Any] = Field(default_factory=dict)


def _table_lines(path: Path) -> list[int]:
    lines = path.read_text(encoding="utf-8").splitlines()
    return [n for n, line in enumerate(lines, 1) if line.strip().startswith("[[source]]")]


def did_you_mean(name: str, known) -> str:
    """' (did you mean 'X'?)' for the closest known name, or ''. Example: did_you_mean("Ялтаа", {"Ялта"})."""
    from difflib import get_close_matches

    close = get_close_matches(name, sorted(known), n=1, cutoff=0.8)
    return f" (did you mean {close[0]!r}?)" if close else ""


def source_key(type_: str, handle: str) -> str:
    """The stable key of a source. Example: source_key("vk_wall", "-123") == "vk:wall:-123"."""
    return TYPES[type_][1] + handle


def load_sources(path: Path, municipalities: set[str] | None = None) -> list[SourceConfig]:
    """Read and validate a sources file; `municipalities` (if given) checks home_municipality names."""
    data = read_toml(path)
    extra = set(data) - {"source"}
    if extra:
        raise ConfigError(f"{path}: unknown table(s) {', '.join(sorted(extra))}; expected [[source]] entries")
    entries = data.get("source", [])
    lines = _table_lines(path)
    configs, seen = [], {}
    for i, entry in enumerate(entries):
        line = lines[i] if i < len(lines) else "?"
        try:
            src = _SourceEntry.model_validate(entry)
        except ValidationError as exc:
            err = exc.errors()[0]
            field = ".".join(str(p) for p in err["loc"]) or "entry"
            raise ConfigError(f"{path}:{line}: source #{i + 1}: {field}: {err['msg']}") from None
        if municipalities is not None and src.home_municipality and src.home_municipality not in municipalities:
            raise ConfigError(f"{path}:{line}: source #{i + 1}: unknown home_municipality {src.home_municipality!r}"
                              f"{did_you_mean(src.home_municipality, municipalities)}")
        key = source_key(src.type, src.handle)
        if key in seen:
            raise ConfigError(f"{path}:{line}: source #{i + 1}: duplicate of the source at line {seen[key]} ({key})")
        seen[key] = line
        configs.append(SourceConfig(
            key=key, platform=TYPES[src.type][0], handle=src.handle, kind=src.kind,
            home_municipality=src.home_municipality, interval_s=src.interval, enabled=src.enabled,
            options={"type": src.type, **src.options},
        ))
    return configs
