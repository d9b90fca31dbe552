"""Errors a caller can act on. Each carries the stable code clients switch on."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager


class UserFacingError(Exception):
    """An expected failure whose message is safe to show to any caller."""

    code = "BAD_USER_INPUT"

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        # The input field at fault (camelCase, as the client wrote it): ``extensions.field``.
        self.field = field
        # Further ``extensions`` entries a client can act on (the missing prerequisites' ids).
        self.extra: dict[str, object] = {}


class BadUserInput(UserFacingError):
    code = "BAD_USER_INPUT"


@contextmanager
def input_field(name: str) -> Iterator[None]:
    """Name the input field at fault (``extensions.field``) for a rule that does not know it."""
    try:
        yield
    except UserFacingError as error:
        if error.field is None:
            error.field = name
        raise


class NotFound(UserFacingError):
    code = "NOT_FOUND"


class Forbidden(UserFacingError):
    code = "FORBIDDEN"


class Unauthenticated(UserFacingError):
    code = "UNAUTHENTICATED"


class Unavailable(UserFacingError):
    """A backing service (a territory's database server, say) cannot be reached right now."""

    code = "SERVICE_UNAVAILABLE"


# --- identity and access. Each failure a client can act on has its own stable code.


class InvalidCredentials(Unauthenticated):
    """Wrong identifier or password; deliberately does not say which."""

    code = "INVALID_CREDENTIALS"


class TooManyRequests(UserFacingError):
    """Too many failed attempts from one client address; retry after the window."""

    code = "RATE_LIMITED"


class AccountLocked(TooManyRequests):
    """Too many failed logins for one account; it unlocks by itself after the window."""

    code = "ACCOUNT_LOCKED"


class PasswordPolicyViolation(BadUserInput):
    code = "PASSWORD_POLICY"


class AlreadyExists(BadUserInput):
    code = "ALREADY_EXISTS"


class InvitationInvalid(BadUserInput):
    """Base of the invitation failures; ``code`` says which rule refused it."""

    code = "INVITATION_INVALID"


class InvitationNotFound(InvitationInvalid):
    code = "INVITATION_NOT_FOUND"


class InvitationExpired(InvitationInvalid):
    code = "INVITATION_EXPIRED"


class InvitationRevoked(InvitationInvalid):
    code = "INVITATION_REVOKED"


class InvitationExhausted(InvitationInvalid):
    code = "INVITATION_EXHAUSTED"


class InvitationEmailMismatch(InvitationInvalid):
    code = "INVITATION_EMAIL_MISMATCH"


class SubscriptionOverflow(UserFacingError):
    """A live subscription's client fell behind: its bounded queue overflowed, so it alone was
    dropped (other subscribers are never held up by it). Subscribe again to continue."""

    code = "SUBSCRIPTION_OVERFLOW"
