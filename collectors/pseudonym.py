"""Keyed pseudonyms for authors (152-ФЗ): the same person maps to the same opaque id, irreversibly."""
from __future__ import annotations

import hashlib
import hmac
import logging
import os
import re
import secrets
from pathlib import Path

log = logging.getLogger(__name__)
PSEUDONYM = re.compile(r"[a-z]+:[0-9a-f]{20}")


def is_pseudonym(platform: str, value: object) -> bool:
    """True for a value this module made for `platform`. Example: is_pseudonym("vk", "vk:3f…") is True."""
    return isinstance(value, str) and value.startswith(f"{platform}:") and PSEUDONYM.fullmatch(value) is not None


class Pseudonymizer:
    """HMAC-SHA256 of `platform:id` under a secret key. Example: Pseudonymizer(b"k")("vk", 1) -> "vk:3f…".

    A pseudonym maps to itself, so a payload stored with pseudonyms adapts to the same author again.
    """

    def __init__(self, key: bytes):
        if len(key) < 16:
            raise ValueError("pseudonymisation key must be at least 16 bytes")
        self._key = key

    def __call__(self, platform: str, author_id: str | int | None) -> str | None:
        if author_id is None or author_id == "":
            return None
        if is_pseudonym(platform, author_id):
            return author_id
        digest = hmac.new(self._key, f"{platform}:{author_id}".encode(), hashlib.sha256).hexdigest()
        return f"{platform}:{digest[:20]}"

    def __repr__(self) -> str:
        return "Pseudonymizer(<key hidden>)"


def load_key(env_value: str | None, data_dir: Path) -> bytes:
    """The key from TSUR_PSEUDONYM_KEY, else a random key kept in data_dir/pseudonym.key (mode 600).

    Daemons sharing data_dir may create it at the same moment: the key is written to a private file and
    linked into place (fails if one exists: then the winner's key is read), so all use one key and none
    reads a half-written file.
    """
    if env_value:
        return env_value.encode()
    path = data_dir / "pseudonym.key"
    if path.exists():
        return path.read_bytes().strip()
    data_dir.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(32).encode()
    draft = data_dir / f".pseudonym.key.{os.getpid()}.{secrets.token_hex(4)}"
    fd = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(key)
            fh.flush()
            os.fsync(fh.fileno())
        os.link(draft, path)
    except FileExistsError:
        return path.read_bytes().strip()
    finally:
        draft.unlink(missing_ok=True)
    log.warning("TSUR_PSEUDONYM_KEY not set: generated a local key in %s (back it up with the database)", path)
    return key
