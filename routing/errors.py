"""Errors of the routing package: one clear line each."""
from __future__ import annotations


class RoutingError(Exception):
    """Base of every routing error."""


class RulesError(RoutingError):
    """A rules or policy file is malformed; the message names the file and the line or rule id."""


class InvalidTransition(RoutingError):
    """A ticket status change that the lifecycle does not allow."""


class DeliveryConfigError(RoutingError):
    """A delivery channel is configured wrongly or its secret is missing from the environment."""
