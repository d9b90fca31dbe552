"""Error codes are a public contract: clients switch on them, so they are spelled out here."""

from __future__ import annotations

import pytest

from domain import errors
from domain.errors import BadUserInput, NotFound, input_field


@pytest.mark.parametrize(
    ("name", "code"),
    [
        ("UserFacingError", "BAD_USER_INPUT"),
        ("BadUserInput", "BAD_USER_INPUT"),
        ("NotFound", "NOT_FOUND"),
        ("Forbidden", "FORBIDDEN"),
        ("Unauthenticated", "UNAUTHENTICATED"),
        ("Unavailable", "SERVICE_UNAVAILABLE"),
        ("InvalidCredentials", "INVALID_CREDENTIALS"),
        ("TooManyRequests", "RATE_LIMITED"),
        ("AccountLocked", "ACCOUNT_LOCKED"),
        ("PasswordPolicyViolation", "PASSWORD_POLICY"),
        ("AlreadyExists", "ALREADY_EXISTS"),
        ("InvitationInvalid", "INVITATION_INVALID"),
        ("InvitationNotFound", "INVITATION_NOT_FOUND"),
        ("InvitationExpired", "INVITATION_EXPIRED"),
        ("InvitationRevoked", "INVITATION_REVOKED"),
        ("InvitationExhausted", "INVITATION_EXHAUSTED"),
        ("InvitationEmailMismatch", "INVITATION_EMAIL_MISMATCH"),
    ],
)
def test_codes(name: str, code: str) -> None:
    error = getattr(errors, name)("msg")
    assert (error.code, error.message, str(error), error.field) == (code, "msg", "msg", None)


def test_field_given_at_raise() -> None:
    assert BadUserInput("m", field="email").field == "email"


def test_input_field_names_the_field_a_rule_did_not() -> None:
    with pytest.raises(BadUserInput) as refused, input_field("displayName"):
        raise BadUserInput("too long")
    assert refused.value.field == "displayName"


def test_input_field_keeps_a_field_the_rule_named() -> None:
    with pytest.raises(NotFound) as refused, input_field("displayName"):
        raise NotFound("gone", field="userId")
    assert refused.value.field == "userId"


def test_input_field_leaves_other_exceptions_alone() -> None:
    with pytest.raises(KeyError) as raised, input_field("displayName"):
        raise KeyError("x")
    assert not hasattr(raised.value, "field")


def test_input_field_is_silent_without_an_error() -> None:
    with input_field("displayName"):
        value = 1
    assert value == 1
