"""Spreadsheet-safe CSV cells (OWASP CSV injection): a cell a spreadsheet would run as a formula gets a quote.

A cell starting with = + - @ TAB or CR (after any quotes) is written with one more leading quote and read
back without it, so every text survives a round trip. Example: escape_cell("=HYPERLINK(…)") == "'=HYPERLINK(…)"
"""
from __future__ import annotations

import re

import pandas as pd

RISKY = re.compile(r"'*[=+\-@\t\r]")


def escape_cell(value: object) -> object:
    """`value` with a leading quote when a spreadsheet would take it for a formula."""
    return "'" + value if isinstance(value, str) and RISKY.match(value) else value


def unescape_cell(value: object) -> object:
    """The cell as it was before `escape_cell`. Example: unescape_cell("'@SUM(A1)") == "@SUM(A1)"."""
    return value[1:] if isinstance(value, str) and value.startswith("'") and RISKY.match(value) else value


def _each_text_column(frame: pd.DataFrame, fn) -> pd.DataFrame:
    out = frame.copy()
    for name in out.columns:
        if out[name].dtype == object or pd.api.types.is_string_dtype(out[name]):
            out[name] = out[name].map(fn)
    return out


def escaped(frame: pd.DataFrame) -> pd.DataFrame:
    """The frame with every formula-like text cell quoted, ready for to_csv."""
    return _each_text_column(frame, escape_cell)


def unescaped(frame: pd.DataFrame) -> pd.DataFrame:
    """A frame read from CSV with the quotes `escaped` added taken off again."""
    return _each_text_column(frame, unescape_cell)
