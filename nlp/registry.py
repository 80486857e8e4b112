"""Model registry: version dirs under models/, the active one named in models/ACTIVE, promotions in models/HISTORY.

    models/
      ACTIVE                 one line: the active version
      HISTORY                one line per promotion: "<utc time>\t<version>" (rollback pops the last)
      2026.11.23-1/          meta.json + *.skops
"""
from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

from nlp.artifacts import META, check_bundle

MODELS_DIR = Path(__file__).resolve().parents[1] / "models"
ACTIVE = "ACTIVE"
HISTORY = "HISTORY"


def resolve(models_dir: Path | None) -> Path:
    """The models dir to use (default: the repo's models/)."""
    return Path(models_dir) if models_dir is not None else MODELS_DIR


def list_versions(models_dir: Path | None = None) -> list[str]:
    """Version names that have a meta.json, oldest first."""
    root = resolve(models_dir)
    if not root.is_dir():
        return []
    return sorted(p.name for p in root.iterdir() if (p / META).is_file())


def active_version(models_dir: Path | None = None) -> str:
    """The version named in models/ACTIVE."""
    path = resolve(models_dir) / ACTIVE
    if not path.is_file():
        raise LookupError(f"{path} missing: train a model and promote it (nlp.registry.promote)")
    return path.read_text(encoding="utf-8").strip()


def is_active(version: str, models_dir: Path | None = None) -> bool:
    """Whether `version` is the one named in models/ACTIVE."""
    path = resolve(models_dir) / ACTIVE
    return path.is_file() and path.read_text(encoding="utf-8").strip() == version


def promote(version: str, models_dir: Path | None = None) -> str:
    """Make `version` active after checking its protocol and the sha256 of every file (check_bundle); return it.

    A version whose files were changed after training is refused: every daemon would refuse to start with it.

    Promoting the active version changes nothing (no second HISTORY line that a rollback would stop at).
    """
    root = resolve(models_dir)
    check_bundle(root / version)
    if is_active(version, root):
        return version
    (root / ACTIVE).write_text(version + "\n", encoding="utf-8")
    stamp = datetime.now(timezone.utc).isoformat(timespec="seconds")
    with (root / HISTORY).open("a", encoding="utf-8") as fh:
        fh.write(f"{stamp}\t{version}\n")
    return version


def rollback(models_dir: Path | None = None) -> str:
    """Re-activate the version promoted before the current one; return it.

    HISTORY lines naming the current version (a repeated promotion) are skipped, so a rollback always changes
    the active version or fails.
    """
    root = resolve(models_dir)
    history = root / HISTORY
    lines = history.read_text(encoding="utf-8").splitlines() if history.is_file() else []
    current = (root / ACTIVE).read_text(encoding="utf-8").strip() if (root / ACTIVE).is_file() else None
    current = current or (lines[-1].split("\t")[1] if lines else None)
    while lines and lines[-1].split("\t")[1] == current:
        lines.pop()
    if not lines:
        raise LookupError(f"nothing to roll back to: no version other than {current} in models/HISTORY")
    previous = lines[-1].split("\t")[1]
    check_bundle(root / previous)
    history.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    (root / ACTIVE).write_text(previous + "\n", encoding="utf-8")
    return previous


def next_version(models_dir: Path | None = None, today: datetime | None = None) -> str:
    """A fresh version name 'YYYY.MM.DD-N'."""
    day = (today or datetime.now(timezone.utc)).strftime("%Y.%m.%d")
    taken = {v for v in list_versions(models_dir)} | {p.name for p in resolve(models_dir).glob(f"{day}-*")}
    n = 1
    while f"{day}-{n}" in taken:
        n += 1
    return f"{day}-{n}"
