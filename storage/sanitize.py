"""Make text storable on every backend: no NUL characters, no lone UTF-16 surrogates."""
from __future__ import annotations

from typing import Any


def clean_text(text: str) -> str:
    """`text` without NUL and with lone surrogates replaced by U+FFFD. Example: clean_text("a\\x00b") == "ab"."""
    if "\x00" in text:
        text = text.replace("\x00", "")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate: pair what pairs, replace the rest
        text = text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
    return text


def clean_json(value: Any) -> Any:
    """A JSON-like value with every string (keys too) cleaned."""
    if isinstance(value, str):
        return clean_text(value)
    if isinstance(value, dict):
        return {clean_text(str(k)): clean_json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [clean_json(v) for v in value]
    return value
