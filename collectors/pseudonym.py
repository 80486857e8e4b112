"""Keyed pseudonyms for authors (152-ФЗ): the same person maps to the same opaque id, irreversibly."""
from __future__ import annotations

import hashlib
import hmac
import logging
import os
import secrets
from pathlib import Path

log = logging.getLogger(__name__)


class Pseudonymizer:
    """HMAC-SHA256 of `platform:id` under a secret key. Example: Pseudonymizer(b"k")("vk", 1) -> "vk:3f…"."""

    def __init__(self, key: bytes):
        if len(key) < 16:
            raise ValueError("pseudonymisation key must be at least 16 bytes")
        self._key = key

    def __call__(self, platform: str, author_id: str | int | None) -> str | None:
        if author_id is None or author_id == "":
            return None
        digest = hmac.new(self._key, f"{platform}:{author_id}".encode(), hashlib.sha256).hexdigest()
        return f"{platform}:{digest[:20]}"

    def __repr__(self) -> str:
        return "Pseudonymizer(<key hidden>)"


def load_key(env_value: str | None, data_dir: Path) -> bytes:
    """The key from TSUR_PSEUDONYM_KEY, else a random key kept in data_dir/pseudonym.key (mode 600)."""
    if env_value:
        return env_value.encode()
    path = data_dir / "pseudonym.key"
    if path.exists():
        return path.read_bytes().strip()
    data_dir.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(32).encode()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(key)
    log.warning("TSUR_PSEUDONYM_KEY not set: generated a local key in %s (back it up with the database)", path)
    return key
