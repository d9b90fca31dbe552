"""The caller: anonymous until a token says otherwise; accessors refuse rather than guess."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest

from domain.callers import ANONYMOUS, Caller
from domain.errors import Unauthenticated

USER = "5f0c6b2e-8f43-4a7c-9d8e-0a1b2c3d4e5f"
SESSION = "0b7e4a3c-1111-4222-8333-944455566677"


def test_anonymous_caller() -> None:
    assert Caller(None, None, frozenset(), None, None) == ANONYMOUS
    assert ANONYMOUS.is_authenticated is False
    for accessor in (ANONYMOUS.account, ANONYMOUS.session):
        with pytest.raises(Unauthenticated) as refused:
            accessor()
        assert (refused.value.code, refused.value.message) == ("UNAUTHENTICATED", "Log in first.")


def test_logged_in_caller() -> None:
    caller = Caller(
        user_id=USER,
        territory_id="dk",
        roles=frozenset({"member:dk"}),
        session_id=SESSION,
        expires_at=datetime(2026, 11, 27, 12, tzinfo=UTC),
    )
    assert caller.is_authenticated is True
    assert caller.account() == ("dk", uuid.UUID(USER))
    assert caller.session() == uuid.UUID(SESSION)


@pytest.mark.parametrize(
    "caller",
    [Caller(user_id=USER), Caller(territory_id="dk"), Caller(user_id=None, session_id=SESSION)],
)
def test_half_a_caller_has_no_account(caller: Caller) -> None:
    with pytest.raises(Unauthenticated, match=r"^Log in first\.$"):
        caller.account()


def test_a_user_without_session_has_none() -> None:
    caller = Caller(user_id=USER, territory_id="dk")
    assert caller.is_authenticated is True
    with pytest.raises(Unauthenticated, match=r"^Log in first\.$"):
        caller.session()


@pytest.mark.parametrize(
    ("territory", "user", "same"),
    [
        ("dk", USER, True),
        ("se", USER, False),  # the same id in another territory is another person
        ("dk", "7d2a4b6c-6666-4e8f-9a0b-1c2d3e4f5a6b", False),
    ],
)
def test_is_account_needs_territory_and_user(territory: str, user: str, same: bool) -> None:
    caller = Caller(user_id=USER, territory_id="dk", roles=frozenset({"member:dk"}))
    assert caller.is_account(territory, uuid.UUID(user)) is same


def test_anonymous_is_no_account() -> None:
    assert ANONYMOUS.is_account("dk", uuid.UUID(USER)) is False
