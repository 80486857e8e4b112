"""Redact personal data from texts before they leave the system (exports, reports).

Person names are not redacted: natasha's NER tags street, village and company names («ул. Гоголя»,
«Новоозёрное», «Крымэнерго») as persons in this region's texts, which would erase the places.
"""
from __future__ import annotations

import re

_NOT_PERSONAL = r"(?!(?:club|public|event)\d+(?![\w.]))"  # community pages
_PATTERNS = [
    (re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+"), "[EMAIL]"),
    (re.compile(r"(?i)(\bИНН\s*:?\s*)\d{10}(?:\d{2})?(?!\d)"), r"\1[DOCUMENT]"),
    (re.compile(r"(?i)(\bСНИЛС\s*:?\s*)\d{3}[\s-]?\d{3}[\s-]?\d{3}[\s-]?\d{2}(?!\d)"), r"\1[DOCUMENT]"),
    (re.compile(r"(?<!\d)\d{3}-\d{3}-\d{3}[\s-]?\d{2}(?!\d)"), "[DOCUMENT]"),  # СНИЛС
    (re.compile(r"(?<!\d)\d{2}\s?\d{2}\s?\d{6}(?!\d)"), "[DOCUMENT]"),  # passport series + number
    (re.compile(r"(?<!\d)(?:\+7|8)[\s(-]*\d{3}[\s)-]*\d{3}[\s-]*\d{2}[\s-]*\d{2}(?!\d)"), "[PHONE]"),
    (re.compile(r"(?<![\d-])(?:\(?\d{3}\)?[\s-]?)?\d{3}[\s-]\d{2}[\s-]\d{2}(?!\d)"), "[PHONE]"),
    (re.compile(rf"(?i)(?<![\w.@/])(?:https?://)?(?:www\.|m\.)?(?:vk\.com|vk\.ru|vkontakte\.ru)/{_NOT_PERSONAL}"
                r"(?:wall\d+_\d+(?:\?[\w=&]*)?|id\d+|[\w.]+)(?=$|[\s,;:!?)])"), "[PROFILE]"),
    (re.compile(r"(?i)(?<![\w.@/])(?:https?://)?(?:t\.me|telegram\.me)/\w+(?=$|[\s,;:!?)])"), "[PROFILE]"),
    (re.compile(r"\[(?:id|club)\d+\|[^\]]*\]"), "[MENTION]"),
    (re.compile(r"(?<![\w@])@[A-Za-z][\w]{3,}"), "[MENTION]"),
]
_CARD = re.compile(r"(?<![\d-])\d{4}([\s-]?)\d{4}\1\d{4}\1\d{4}(?![\d-])")


def luhn_ok(digits: str) -> bool:
    """The Luhn checksum of a card number. Example: luhn_ok("4276380012345679") is True."""
    total = 0
    for n, ch in enumerate(reversed(digits)):
        d = int(ch) * (2 if n % 2 else 1)
        total += d - 9 if d > 9 else d
    return total % 10 == 0


def _card(match: re.Match) -> str:
    return "[CARD]" if luhn_ok(re.sub(r"\D", "", match.group())) else match.group()


def redact(text: str | None) -> str | None:
    """Mask e-mails, bank cards, document numbers, phones, profile links and mentions.

    Example: redact("звоните 8 (978) 123-45-67") == "звоните [PHONE]"
    """
    if not text:
        return text
    text = _CARD.sub(_card, text)
    for pattern, token in _PATTERNS:
        text = pattern.sub(token, text)
    return text
