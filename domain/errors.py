"""Errors a caller can act on. Each carries the stable code clients switch on."""

from __future__ import annotations


class UserFacingError(Exception):
    """An expected failure whose message is safe to show to any caller."""

    code = "BAD_USER_INPUT"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class BadUserInput(UserFacingError):
    code = "BAD_USER_INPUT"


class NotFound(UserFacingError):
    code = "NOT_FOUND"


class Forbidden(UserFacingError):
    code = "FORBIDDEN"


class Unauthenticated(UserFacingError):
    code = "UNAUTHENTICATED"


class Unavailable(UserFacingError):
    """A backing service (a territory's database server, say) cannot be reached right now."""

    code = "SERVICE_UNAVAILABLE"
