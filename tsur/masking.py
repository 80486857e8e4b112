"""Hide secrets in text bound for logs or the database: the configured values and the usual token shapes.

Example: mask("wall.get?access_token=vk1.a.abc&v=5.199") == "wall.get?access_token=***&v=5.199"
"""
from __future__ import annotations

import os
import re
from collections.abc import Iterable
from functools import lru_cache
from urllib.parse import quote, unquote, urlsplit

HIDDEN = "***"
MIN_SECRET = 4  # shorter values would mask ordinary words and numbers
_NAMES = r"(?:\w+_)?(?:token|secret|password|passwd|api_hash|api_key|session)"
SHAPES = (
    (re.compile(rf"(?i)\b({_NAMES}=)[^\s&'\"<>]+"), rf"\1{HIDDEN}"),  # access_token=… in URLs and forms
    (re.compile(rf"(?i)(['\"]{_NAMES}['\"]\s*:\s*['\"])[^'\"]+"), rf"\1{HIDDEN}"),  # "token": "…" in JSON/reprs
    (re.compile(r"(?i)\b(bearer\s+)[\w.~+/=-]{8,}"), rf"\1{HIDDEN}"),
    (re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://[^\s:/@]+:)[^\s@/]+@"), rf"\1{HIDDEN}@"),  # scheme://user:pw@host
    (re.compile(r"\bvk1\.a\.[\w-]{16,}"), HIDDEN),  # VK access tokens
    (re.compile(r"\b1[\w+/=-]{200,}"), HIDDEN),  # Telethon StringSession
)
_registered: set[str] = set()


def register_secrets(values: Iterable[str | None]) -> None:
    """Remember configured secret values (e.g. from settings) so that `mask` hides them everywhere."""
    _registered.update(v for v in values if v)


def env_secrets() -> list[str]:
    """Values of the TSUR_* secret variables set in the environment."""
    from tsur.settings import SECRET_FIELDS

    return [os.environ.get(f"TSUR_{name.upper()}") or "" for name in SECRET_FIELDS]


@lru_cache(maxsize=32)
def variants(values: frozenset[str]) -> tuple[str, ...]:
    """Each secret as written, URL-encoded, and the password inside a URL; longest first."""
    out = set()
    for value in values:
        out.update((value, quote(value, safe="")))
        password = urlsplit(value).password if "://" in value else None
        if password:
            out.update((password, unquote(password)))
    return tuple(sorted((v for v in out if len(v) >= MIN_SECRET), key=len, reverse=True))


def mask(text: str | None) -> str | None:
    """`text` with every known secret and token-shaped value replaced by ***."""
    if not text:
        return text
    for secret in variants(frozenset([*_registered, *env_secrets()])):
        text = text.replace(secret, HIDDEN)
    for pattern, replacement in SHAPES:
        text = pattern.sub(replacement, text)
    return text
