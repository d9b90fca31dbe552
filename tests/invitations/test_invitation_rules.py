"""Invitation rules on their own: usability, token routing, the terms of a new invitation."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from domain.callers import Caller
from domain.errors import (
    BadUserInput,
    InvitationEmailMismatch,
    InvitationExhausted,
    InvitationExpired,
    InvitationNotFound,
    InvitationRevoked,
)
from domain.invitations import (
    MAX_USES,
    InvitationState,
    check_lifetime,
    check_max_uses,
    check_role,
    check_usable,
    new_token,
    recorded_creator,
    territory_of,
    validate_new,
)
from domain.roles import Role

NOW = datetime(2026, 11, 27, 12, tzinfo=UTC)


def state(**kw: object) -> InvitationState:
    values: dict[str, object] = {
        "email": None,
        "max_uses": 1,
        "use_count": 0,
        "expires_at": NOW + timedelta(days=1),
        "revoked_at": None,
    }
    values.update(kw)
    return InvitationState(**values)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("kw", "email", "error"),
    [
        ({"revoked_at": NOW}, None, InvitationRevoked),
        ({"revoked_at": NOW, "expires_at": NOW}, None, InvitationRevoked),
        ({"expires_at": NOW}, None, InvitationExpired),
        ({"use_count": 1}, None, InvitationExhausted),
        ({"max_uses": 3, "use_count": 3}, None, InvitationExhausted),
        ({"email": "a@example.org"}, "b@example.org", InvitationEmailMismatch),
    ],
)
def test_unusable_invitations(kw: dict[str, object], email: str | None, error: type) -> None:
    with pytest.raises(error):
        check_usable(state(**kw), now=NOW, email=email)


def test_usable_invitations() -> None:
    check_usable(state(), now=NOW, email="x@example.org")
    check_usable(state(max_uses=3, use_count=2), now=NOW, email=None)
    check_usable(state(email="A@Example.org"), now=NOW, email="a@example.ORG")
    check_usable(state(email="a@example.org"), now=NOW, email=None)  # validateInvitation


def test_invitation_tokens_route_and_are_random() -> None:
    token = new_token("c_dk_aarhus")
    assert territory_of(token) == "c_dk_aarhus"
    secret = token.partition(".")[2]
    assert len(secret) >= 43  # 32 bytes of base64url: 256 bits
    assert new_token("dk") != new_token("dk")
    for bad in ("", "dk", "dk.", ".abc", "DK.abc", "x" * 200, "../etc.abc", "is;drop.x"):
        with pytest.raises(InvitationNotFound):
            territory_of(bad)


@pytest.mark.parametrize("uses", [0, -1, MAX_USES + 1])
def test_uses_out_of_range(uses: int) -> None:
    with pytest.raises(BadUserInput):
        check_max_uses(uses)


def test_uses_in_range() -> None:
    check_max_uses(1)
    check_max_uses(MAX_USES)


@pytest.mark.parametrize("seconds", [0, 59, 366 * 24 * 3600 + 1])
def test_lifetime_out_of_range(seconds: int) -> None:
    with pytest.raises(BadUserInput):
        check_lifetime(seconds)


def test_global_admins_are_invited_into_global_only() -> None:
    check_role("global", Role.GLOBAL_ADMIN)
    check_role("dk", Role.TERRITORY_MANAGER)
    with pytest.raises(BadUserInput):
        check_role("dk", Role.GLOBAL_ADMIN)


def test_validate_new_applies_every_rule() -> None:
    validate_new(territory_id="dk", max_uses=2, role=Role.MEMBER, ttl_seconds=3600)
    for bad in (
        {"max_uses": 0},
        {"ttl_seconds": 1},
        {"role": Role.GLOBAL_ADMIN},
    ):
        terms: dict[str, object] = {
            "territory_id": "dk",
            "max_uses": 2,
            "role": Role.MEMBER,
            "ttl_seconds": 3600,
            **bad,
        }
        with pytest.raises(BadUserInput):
            validate_new(**terms)  # type: ignore[arg-type]


def test_the_creator_is_recorded_only_for_the_territorys_own_accounts() -> None:
    user = uuid.uuid4()
    own = Caller(user_id=str(user), territory_id="dk", roles=frozenset({"territory_manager:dk"}))
    admin = Caller(user_id=str(user), territory_id="global", roles=frozenset({"global_admin"}))
    assert recorded_creator(own, "dk") == user
    assert recorded_creator(admin, "dk") is None
    assert recorded_creator(Caller(), "dk") is None
