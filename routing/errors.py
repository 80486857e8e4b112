"""Errors of the routing package: one clear line each."""
from __future__ import annotations

import re


def one_line(message: object) -> str:
    """The message with its line breaks (and the spaces around them) turned into one space."""
    return re.sub(r"\s*[\r\n\x0b\x0c\x1c-\x1e\x85\u2028\u2029]+\s*", " ", str(message)).strip()


class RoutingError(Exception):
    """Base of every routing error; its message is always one line (a value quoted in it may hold a newline)."""

    def __init__(self, message: object = ""):
        super().__init__(one_line(message))


class RulesError(RoutingError):
    """A rules or policy file is malformed; the message names the file and the line or rule id."""


class InvalidTransition(RoutingError):
    """A ticket status change that the lifecycle does not allow."""


class DeliveryConfigError(RoutingError):
    """A delivery channel is configured wrongly or its secret is missing from the environment."""
