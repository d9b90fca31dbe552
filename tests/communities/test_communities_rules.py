"""Community rules one at a time: slugs, names, descriptions, who sees an invite-only community,
who lists and manages members, whose membership a caller holds, the last admin."""

from __future__ import annotations

import uuid

import pytest

from domain.callers import ANONYMOUS, Caller
from domain.communities import (
    CommunityRole,
    account_in,
    can_list_members,
    can_manage_members,
    check_admins_remain,
    hidden_from,
    validate_description,
    validate_name,
    validate_slug,
)
from domain.errors import BadUserInput

SLUG = (
    "A community slug has at most 64 characters: lower-case letters and digits in groups "
    "joined by single hyphens ('repair-cafe')."
)


def refusal(call: object, *args: object, **kwargs: object) -> str:
    with pytest.raises(BadUserInput) as refused:
        call(*args, **kwargs)  # type: ignore[operator]
    return refused.value.message


def test_community_roles_are_spelled_as_stored() -> None:
    assert [r.value for r in CommunityRole] == ["member", "moderator", "admin"]


@pytest.mark.parametrize(
    ("given", "stored"),
    [
        (" Repair-Cafe ", "repair-cafe"),
        ("a", "a"),
        ("r2-d2", "r2-d2"),
        ("a" * 64, "a" * 64),
        ("  " + "a" * 64 + "  ", "a" * 64),
    ],
)
def test_slugs_accepted(given: str, stored: str) -> None:
    assert validate_slug(given) == stored


@pytest.mark.parametrize("given", ["a" * 65, "", "-a", "a-", "a--b", "a_b", "a b", "café", "a.b"])
def test_slugs_refused(given: str) -> None:
    assert refusal(validate_slug, given) == SLUG


@pytest.mark.parametrize(
    ("given", "stored"),
    [
        ("  Repair \n\t Café  ", "Repair Café"),
        ("Cafe\u0301", "Caf\u00e9"),
        ("x" * 120, "x" * 120),
        ("x" * 119 + "\u00e9", "x" * 119 + "\u00e9"),
    ],
)
def test_names_accepted(given: str, stored: str) -> None:
    assert validate_name(given) == stored


@pytest.mark.parametrize(
    ("given", "message"),
    [
        ("", "A community name cannot be empty."),
        (" \n ", "A community name cannot be empty."),
        ("x" * 121, "The community name has at most 120 characters."),
        ("bell\x07", "The community name contains control characters."),
        ("\u202egnp.exe", "The community name contains control characters."),
    ],
)
def test_names_refused(given: str, message: str) -> None:
    assert refusal(validate_name, given) == message


def test_names_of_other_things_use_their_own_words_and_limit() -> None:
    assert validate_name("x" * 64, what="group name", limit=64) == "x" * 64
    assert refusal(validate_name, "x" * 65, what="group name", limit=64) == (
        "The group name has at most 64 characters."
    )
    assert refusal(validate_name, "  ", what="group name", limit=64) == (
        "A group name cannot be empty."
    )


@pytest.mark.parametrize(
    ("given", "stored"),
    [
        ("", ""),
        ("   ", ""),
        ("  first line\nsecond line  ", "first line\nsecond line"),
        ("d" * 2000, "d" * 2000),
        ("\u202eright to left", "\u202eright to left"),
    ],
)
def test_descriptions_accepted(given: str, stored: str) -> None:
    assert validate_description(given) == stored


@pytest.mark.parametrize(
    ("given", "message"),
    [
        ("d" * 2001, "The description has at most 2000 characters."),
        ("tab\there", "The description contains control characters."),
    ],
)
def test_descriptions_refused(given: str, message: str) -> None:
    assert refusal(validate_description, given) == message


@pytest.mark.parametrize(
    ("roles", "territory", "community_role", "expected"),
    [
        ([], "dk", "admin", True),
        ([], "dk", "moderator", False),
        ([], "dk", "member", False),
        ([], "dk", None, False),
        (["territory_manager:dk"], "dk", None, True),
        (["territory_manager:se"], "dk", None, False),
        (["territory_manager:no"], "dk", None, False),
        (["territory_manager:se"], "dk", "admin", True),
        (["moderator:dk"], "dk", "member", False),
        (["global_admin"], "dk", None, True),
    ],
)
def test_who_manages_members(
    roles: list[str], territory: str, community_role: str | None, expected: bool
) -> None:
    role = None if community_role is None else CommunityRole(community_role)
    assert can_manage_members(roles, territory, role) is expected


@pytest.mark.parametrize(
    ("admins", "losing", "refused"),
    [
        (1, True, True),
        (0, True, True),
        (2, True, False),
        (1, False, False),
        (0, False, False),
    ],
)
def test_a_community_keeps_an_admin(admins: int, losing: bool, refused: bool) -> None:
    if refused:
        assert refusal(check_admins_remain, admins, losing_admin=losing) == (
            "A community keeps at least one admin: appoint another one first."
        )
    else:
        assert check_admins_remain(admins, losing_admin=losing) is None


ALICE = "3c9e1f20-5555-4a6b-8c7d-0e1f2a3b4c5d"
DK_ACCOUNT = Caller(user_id=ALICE, territory_id="dk", roles=frozenset({"member:dk"}))
NO_ACCOUNT = Caller(user_id="7d2a4b6c-6666-4e8f-9a0b-1c2d3e4f5a6b", territory_id="no")
GLOBAL_ADMIN = Caller(
    user_id="8e3b5c7d-7777-4f90-8b1c-2d3e4f5a6b7c",
    territory_id="no",
    roles=frozenset({"global_admin"}),
)


@pytest.mark.parametrize("role", ["member", "moderator", "admin"])
def test_members_see_their_invite_only_community(role: str) -> None:
    assert not hidden_from([], "dk", is_public=False, caller_community_role=CommunityRole(role))


@pytest.mark.parametrize(
    ("roles", "hidden"),
    [
        ([], True),
        (["member:dk"], True),
        (["moderator:dk"], True),
        (["territory_manager:no"], True),
        (["territory_manager:dk"], False),
        (["global_admin"], False),
    ],
)
def test_non_members_see_an_invite_only_community_only_as_managers(
    roles: list[str], hidden: bool
) -> None:
    assert hidden_from(roles, "dk", is_public=False, caller_community_role=None) is hidden


def test_public_communities_are_never_hidden() -> None:
    assert not hidden_from([], "dk", is_public=True, caller_community_role=None)


@pytest.mark.parametrize(
    ("caller", "allowed"),
    [(DK_ACCOUNT, True), (NO_ACCOUNT, False), (ANONYMOUS, False), (GLOBAL_ADMIN, True)],
)
def test_member_lists_are_for_the_territory_and_global_admins(
    caller: Caller, allowed: bool
) -> None:
    assert can_list_members(caller, "dk") is allowed


def test_only_accounts_of_the_territory_hold_memberships_there() -> None:
    assert account_in(DK_ACCOUNT, "dk") == uuid.UUID(ALICE)
    assert account_in(DK_ACCOUNT, "no") is None
    assert account_in(ANONYMOUS, "dk") is None
