"""Domain errors: what an operation raises when it will not do what was asked.

Each carries a stable ``code`` (for the API and tests) and a human message (already
translatable). The doors map the kinds: pages show them, the API answers RFC 9457
problem+json, the CLI prints them.
"""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    status = 400
    title = "Bad request"

    def __init__(self, code: str, message: object, **details: Any) -> None:
        super().__init__(str(message))
        self.code = code
        self.message = message
        self.details = details

    def __str__(self) -> str:
        return str(self.message)


class NotFound(DomainError):
    """The object does not exist, or the actor may not know that it exists."""

    status = 404
    title = "Not found"


class NotAllowed(DomainError):
    status = 403
    title = "Not allowed"


class Conflict(DomainError):
    """The object is not in a state where this can happen (a transition, a duplicate)."""

    status = 409
    title = "Conflict"


class RuleBroken(DomainError):
    """A business rule refuses the request; the message names the rule."""

    status = 422
    title = "Rule broken"


class InvalidInput(DomainError):
    status = 422
    title = "Invalid input"
