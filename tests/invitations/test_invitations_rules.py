"""Invitation rules one at a time: token routing, usability at its instants, new invitations.

Each refusal is identified by its error code, written as a literal; every limit is tried on both
sides (length 120/121, uses 1..10000, a lifetime of 60 s..366 days, expiry at the instant).
"""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from domain.callers import Caller
from domain.errors import BadUserInput, InvitationInvalid
from domain.invitations import (
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
TICK = timedelta(microseconds=1)


def state(**changes: object) -> InvitationState:
    fields: dict[str, object] = {
        "email": None,
        "max_uses": 1,
        "use_count": 0,
        "expires_at": NOW + timedelta(hours=1),
        "revoked_at": None,
    }
    fields.update(changes)
    return InvitationState(**fields)  # type: ignore[arg-type]


MESSAGES = {
    "INVITATION_REVOKED": "This invitation has been revoked.",
    "INVITATION_EXPIRED": "This invitation has expired.",
    "INVITATION_EXHAUSTED": "This invitation has already been used.",
    "INVITATION_EMAIL_MISMATCH": "This invitation is for another email address.",
}


def refused_code(invitation: InvitationState, email: str | None = None) -> str:
    with pytest.raises(InvitationInvalid) as refused:
        check_usable(invitation, now=NOW, email=email)
    assert refused.value.message == MESSAGES[refused.value.code]
    return refused.value.code


def test_new_tokens_route_to_their_territory_and_differ() -> None:
    first, second = new_token("c_dk_aarhus"), new_token("c_dk_aarhus")
    assert first != second
    territory, dot, secret = first.partition(".")
    assert (territory, dot, len(secret)) == ("c_dk_aarhus", ".", 43)
    assert territory_of(first) == "c_dk_aarhus"
    with pytest.raises(BadUserInput, match=r"^Invalid territory id"):
        new_token("DK")


@pytest.mark.parametrize(
    ("token", "territory"),
    [
        ("dk.s", "dk"),
        ("global.abc", "global"),
        ("dk.a.b", "dk"),
        ("dk." + "x" * 117, "dk"),  # 120 characters: the longest token read
    ],
)
def test_tokens_route(token: str, territory: str) -> None:
    assert territory_of(token) == territory


@pytest.mark.parametrize(
    "token",
    [
        "dk." + "x" * 118,  # 121 characters
        "dk",
        "dk.",
        ".secret",
        ".abc",
        "../etc.abc",
        "is;drop.x",
        "x" * 200,
        "DK.secret",
        "zz.secret",
        "",
        None,
        42,
    ],
)
def test_malformed_tokens_are_simply_not_found(token: object) -> None:
    with pytest.raises(InvitationInvalid) as refused:
        territory_of(token)  # type: ignore[arg-type]
    assert (refused.value.code, refused.value.message) == (
        "INVITATION_NOT_FOUND",
        "No such invitation.",
    )


@pytest.mark.parametrize(
    ("invitation", "email"),
    [
        (state(), None),
        (state(), "anyone@example.org"),
        (state(expires_at=NOW + TICK), None),
        (state(max_uses=5, use_count=4), None),
        (state(email="Kari@Example.org"), "kari@example.ORG"),
        (state(email="kari@example.org"), None),
    ],
)
def test_usable_invitations(invitation: InvitationState, email: str | None) -> None:
    assert check_usable(invitation, now=NOW, email=email) is None


@pytest.mark.parametrize(
    ("invitation", "email", "code"),
    [
        (state(revoked_at=NOW), None, "INVITATION_REVOKED"),
        (state(revoked_at=NOW, expires_at=NOW - TICK, use_count=1), "x@y.z", "INVITATION_REVOKED"),
        (state(expires_at=NOW), None, "INVITATION_EXPIRED"),
        (state(expires_at=NOW - TICK), None, "INVITATION_EXPIRED"),
        (state(expires_at=NOW, use_count=1), None, "INVITATION_EXPIRED"),
        (state(max_uses=5, use_count=5), None, "INVITATION_EXHAUSTED"),
        (state(max_uses=5, use_count=6), None, "INVITATION_EXHAUSTED"),
        (state(use_count=1, email="a@b.c"), "x@y.z", "INVITATION_EXHAUSTED"),
        (state(email="kari@example.org"), "ola@example.org", "INVITATION_EMAIL_MISMATCH"),
    ],
)
def test_each_rule_refuses_with_its_code(
    invitation: InvitationState, email: str | None, code: str
) -> None:
    assert refused_code(invitation, email) == code


@pytest.mark.parametrize(
    ("territory", "max_uses", "role", "ttl"),
    [
        ("dk", 1, "member", 60),
        ("dk", 10_000, "moderator", 366 * 24 * 3600),
        ("global", 1, "global_admin", 3600),
        ("global", 3, "member", 3600),
        ("dk", 2, "territory_manager", 3600),
    ],
)
def test_new_invitations_accepted(territory: str, max_uses: int, role: str, ttl: int) -> None:
    assert (
        validate_new(territory_id=territory, max_uses=max_uses, role=Role(role), ttl_seconds=ttl)
        is None
    )


USES = "An invitation allows 1 to 10000 uses."
LIFETIME = "An invitation lasts between a minute and a year."


@pytest.mark.parametrize(
    ("territory", "max_uses", "role", "ttl", "message"),
    [
        ("dk", 0, "member", 3600, USES),
        ("dk", 10_001, "member", 3600, USES),
        ("dk", -1, "member", 3600, USES),
        ("dk", 1, "member", 0, LIFETIME),
        ("dk", 1, "member", 1, LIFETIME),
        ("dk", 1, "member", 59, LIFETIME),
        ("dk", 1, "member", 31_622_401, LIFETIME),
        ("dk", 1, "global_admin", 3600, "A global admin is invited into the 'global' territory."),
    ],
)
def test_new_invitations_refused_by_one_rule(
    territory: str, max_uses: int, role: str, ttl: int, message: str
) -> None:
    with pytest.raises(BadUserInput) as refused:
        validate_new(territory_id=territory, max_uses=max_uses, role=Role(role), ttl_seconds=ttl)
    assert refused.value.message == message


@pytest.mark.parametrize(
    ("uses", "refused"), [(-1, True), (0, True), (1, False), (10_000, False), (10_001, True)]
)
def test_check_max_uses_alone(uses: int, refused: bool) -> None:
    if refused:
        with pytest.raises(BadUserInput, match=f"^{re.escape(USES)}$"):
            check_max_uses(uses)
    else:
        assert check_max_uses(uses) is None


@pytest.mark.parametrize(
    ("seconds", "refused"),
    [(0, True), (59, True), (60, False), (31_622_400, False), (31_622_401, True)],
)
def test_check_lifetime_alone(seconds: int, refused: bool) -> None:
    if refused:
        with pytest.raises(BadUserInput, match=f"^{re.escape(LIFETIME)}$"):
            check_lifetime(seconds)
    else:
        assert check_lifetime(seconds) is None


def test_check_role_alone() -> None:
    assert check_role("global", Role.GLOBAL_ADMIN) is None
    assert check_role("dk", Role.TERRITORY_MANAGER) is None
    with pytest.raises(
        BadUserInput, match=r"^A global admin is invited into the 'global' territory\.$"
    ):
        check_role("dk", Role.GLOBAL_ADMIN)


def test_the_creator_is_recorded_only_for_the_territorys_own_accounts() -> None:
    user = uuid.UUID("4b5c6d7e-8888-4a1b-9c2d-3e4f5a6b7c8d")
    own = Caller(user_id=str(user), territory_id="dk", roles=frozenset({"territory_manager:dk"}))
    admin = Caller(user_id=str(user), territory_id="global", roles=frozenset({"global_admin"}))
    assert recorded_creator(own, "dk") == user
    assert recorded_creator(admin, "dk") is None
    assert recorded_creator(Caller(), "dk") is None
