"""Redact personal data from texts before they leave the system (exports, reports)."""
from __future__ import annotations

import re

_PATTERNS = [
    (re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+"), "[EMAIL]"),
    (re.compile(r"(?<!\d)(?:\+7|8)[\s(-]*\d{3}[\s)-]*\d{3}[\s-]*\d{2}[\s-]*\d{2}(?!\d)"), "[PHONE]"),
    (re.compile(r"(?<!\d)\d{3}[\s-]\d{2}[\s-]\d{2}(?!\d)"), "[PHONE]"),
    (re.compile(r"https?://(?:m\.)?(?:vk\.com|vkontakte\.ru)/(?:id\d+|[\w.]+)(?=$|[\s,;:!?)])", re.I), "[PROFILE]"),
    (re.compile(r"https?://(?:t\.me|telegram\.me)/\w+(?=$|[\s,;:!?)])", re.I), "[PROFILE]"),
    (re.compile(r"\[(?:id|club)\d+\|[^\]]*\]"), "[MENTION]"),
    (re.compile(r"(?<![\w@])@[A-Za-z][\w]{3,}"), "[MENTION]"),
    (re.compile(r"(?<!\d)\d{4}\s?\d{6}(?!\d)"), "[DOCUMENT]"),  # passport series + number
    (re.compile(r"(?<!\d)\d{3}-\d{3}-\d{3}\s?\d{2}(?!\d)"), "[DOCUMENT]"),  # СНИЛС
]


def redact(text: str | None) -> str | None:
    """Mask e-mails, phones, profile links, mentions and document numbers.

    Example: redact("звоните 8 (978) 123-45-67") == "звоните [PHONE]"
    """
    if not text:
        return text
    for pattern, token in _PATTERNS:
        text = pattern.sub(token, text)
    return text
