"""Size limits on what one collected item may cost downstream: its text is capped, its raw kept whole.

A 10 MB post took the analyser 250 s and 1.44 GB; no complaint needs more than a few pages to be read,
so the text handed to storage and to the NLP is cut at `max_text_chars` (at a word boundary, with a
marker), while the item's raw payload — what the text was built from — is stored as it came.

Example:
    >>> cap_text("Нет воды " * 5000, 100)[-46:]
    'Нет воды […текст сокращён, всего 45000 знаков]'
"""
from __future__ import annotations

from dataclasses import replace

from tsur.records import Page, RawItem

MAX_TEXT_CHARS = 20_000  # the default of the max_text_chars setting
WORD_SLACK = 0.1  # look this far back (share of the cap) for a space; a longer "word" is cut as is


def marker(total: int) -> str:
    """What ends a cut text: « […текст сокращён, всего 1000000 знаков]»."""
    return f" […текст сокращён, всего {total} знаков]"


def cap_text(text: str, max_chars: int = MAX_TEXT_CHARS) -> str:
    """`text` if it fits in `max_chars`, else its start cut at a word boundary plus a marker, in `max_chars`.

    Example: cap_text("Нет воды " * 5000, 100) -> 'Нет воды Нет воды … […текст сокращён, всего 45000 знаков]'
    """
    if len(text) <= max_chars:
        return text
    end = marker(len(text))
    budget = max(0, max_chars - len(end))
    space = max(text.rfind(" ", 0, budget + 1), text.rfind("\n", 0, budget + 1))
    cut = space if space >= budget * (1 - WORD_SLACK) else budget
    return text[:cut].rstrip() + end if budget else text[:max_chars]  # a cap shorter than the marker: cut only


def cap_item(item: RawItem, max_chars: int = MAX_TEXT_CHARS) -> RawItem:
    """The item with its text capped; its raw payload (the platform's record) is left whole."""
    text = cap_text(item.text, max_chars)
    return item if text is item.text else replace(item, text=text)


def cap_page(page: Page, max_chars: int = MAX_TEXT_CHARS) -> tuple[Page, int]:
    """The page with every item's text capped, and how many were cut."""
    items = tuple(cap_item(i, max_chars) for i in page.items)
    cut = sum(a is not b for a, b in zip(items, page.items))
    return (replace(page, items=items) if cut else page), cut
