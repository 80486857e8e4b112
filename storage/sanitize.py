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


MAX_JSON_DEPTH = 64
INT64 = (-(2**63), 2**63 - 1)


def json_problem(value: Any, max_depth: int = MAX_JSON_DEPTH) -> str | None:
    """Why `value` is not plain JSON both databases store, or None.

    Plain JSON: dict (string keys) / list / str / bool / None / 64-bit int / finite float, nested at most
    `max_depth` deep. Example: json_problem({"a": float("nan")}) == "NaN or Infinity in JSON".
    """
    stack = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > max_depth:
            return f"JSON nested deeper than {max_depth}"
        if node is None or isinstance(node, (str, bool)):
            continue
        if isinstance(node, int):
            if not INT64[0] <= node <= INT64[1]:
                return "integer outside 64 bits in JSON"
        elif isinstance(node, float):
            if node != node or node in (float("inf"), float("-inf")):
                return "NaN or Infinity in JSON"
        elif isinstance(node, dict):
            if not all(isinstance(k, str) for k in node):
                return "non-string key in JSON"
            stack.extend((v, depth + 1) for v in node.values())
        elif isinstance(node, (list, tuple)):
            stack.extend((v, depth + 1) for v in node)
        else:
            return f"{type(node).__name__} in JSON"
    return None


def storable_json(value: Any, limit: int = 10_000) -> Any:
    """`value` cleaned if it is plain JSON, else {"unstorable": <why>, "text": <its repr, cut to `limit`>}."""
    problem = json_problem(value)
    if problem is None:
        return clean_json(value)
    try:
        text = repr(value)[:limit]
    except (RecursionError, ValueError):
        text = ""
    return {"unstorable": problem, "text": clean_text(text)}
