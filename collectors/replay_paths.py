"""Replay files are read only from allowed directories (setting replay_dirs), so a source cannot copy any
file the daemon can read (keys, other users' files) into the database.

Example: replay_path("samples/demo.jsonl", settings) -> Path("/srv/tsur/samples/demo.jsonl")
         replay_path("../../secret", settings)  # ValueError: … outside the replay directories …
"""
from __future__ import annotations

from pathlib import Path

from tsur.settings import ROOT, Settings


def allowed_dirs(settings: Settings) -> list[Path]:
    """The directories replay files may live in, resolved (symlinks followed)."""
    return [Path(d).expanduser().resolve() for d in settings.replay_dirs_or_default]


def replay_path(handle: str, settings: Settings) -> Path:
    """The file a `replay:<handle>` source reads (relative: from the working directory, else the project root),
    resolved; ValueError (one line) when it lies outside every allowed directory."""
    path = Path(handle).expanduser()
    if not path.is_absolute():
        path = path if path.exists() else ROOT / path
    resolved = path.resolve()
    dirs = allowed_dirs(settings)
    if not any(resolved.is_relative_to(d) for d in dirs):
        raise ValueError(f"replay file {handle} is outside the replay directories ({', '.join(map(str, dirs))}); "
                         "add its directory to replay_dirs (TSUR_REPLAY_DIRS)")
    return resolved
