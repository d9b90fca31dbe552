"""The role model's rules one at a time: grant strings, who reads accounts, who hands out roles.

Expected values are literals: a role renamed or a set widened in domain/roles.py fails here.
"""

from __future__ import annotations

import pytest

from domain.errors import BadUserInput
from domain.roles import (
    Grant,
    Role,
    can_assign,
    can_manage_territory,
    can_read_accounts,
    has_role_in,
    is_global_admin,
)

ADMIN = ["global_admin"]
DK_MANAGER = ["territory_manager:dk"]
DK_MODERATOR = ["moderator:dk"]
DK_CREATOR = ["content_creator:dk"]
DK_MEMBER = ["member:dk"]
SE_MANAGER = ["territory_manager:se"]


def test_role_names_are_the_token_spelling() -> None:
    assert [r.value for r in Role] == [
        "global_admin",
        "territory_manager",
        "moderator",
        "content_creator",
        "member",
    ]


@pytest.mark.parametrize(
    ("text", "role", "territory"),
    [
        ("global_admin", "global_admin", None),
        ("territory_manager:dk", "territory_manager", "dk"),
        ("moderator:c_dk_aarhus", "moderator", "c_dk_aarhus"),
        ("member:fn_sami", "member", "fn_sami"),
    ],
)
def test_grant_strings_round_trip(text: str, role: str, territory: str | None) -> None:
    grant = Grant.parse(text)
    assert (grant.role.value, grant.territory_id) == (role, territory)
    assert grant.encode() == text


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("emperor:dk", "Unknown role."),
        ("", "Unknown role."),
        ("Member:dk", "Unknown role."),
        ("member", "global_admin has no territory; every other role needs one."),
        ("member:", "global_admin has no territory; every other role needs one."),
        ("global_admin:dk", "global_admin has no territory; every other role needs one."),
        ("member:zz", "'zz' is not an ISO 3166-1 alpha-2 country code."),
    ],
)
def test_grant_strings_refused_by_one_rule(text: str, message: str) -> None:
    with pytest.raises(BadUserInput) as refused:
        Grant.parse(text)
    assert refused.value.message == message


def test_malformed_territory_in_a_grant_is_refused_by_the_id_rule() -> None:
    with pytest.raises(BadUserInput, match=r"^Invalid territory id"):
        Grant.parse("member:DK")


def test_grant_constructor_pairs_role_and_territory() -> None:
    assert Grant(Role.GLOBAL_ADMIN, None).encode() == "global_admin"
    assert Grant(Role.MEMBER, "dk").encode() == "member:dk"
    for role, territory in ((Role.GLOBAL_ADMIN, "dk"), (Role.MEMBER, None)):
        with pytest.raises(BadUserInput, match="every other role needs one"):
            Grant(role, territory)


@pytest.mark.parametrize(
    ("roles", "expected"),
    [
        (["global_admin"], True),
        (["member:dk", "global_admin"], True),
        ([], False),
        (["territory_manager:dk"], False),
        (["global_admin:dk"], False),
        (["Global_Admin"], False),
    ],
)
def test_is_global_admin(roles: list[str], expected: bool) -> None:
    assert is_global_admin(roles) is expected
    assert is_global_admin(iter(roles)) is expected  # any iterable, read once


@pytest.mark.parametrize(
    ("roles", "territory", "allowed", "expected"),
    [
        (["moderator:dk"], "dk", ["moderator"], True),
        (["moderator:dk"], "dk", ["member", "moderator"], True),
        (["moderator:dk"], "se", ["moderator"], False),
        (["moderator:dk"], "dk", ["member"], False),
        (["moderator:dk"], "dk", [], False),
        (["global_admin"], "se", [], True),
        (["member:se", "global_admin"], "no", ["member"], True),
        ([], "dk", ["member"], False),
    ],
)
def test_has_role_in(roles: list[str], territory: str, allowed: list[str], expected: bool) -> None:
    assert has_role_in(iter(roles), territory, (Role(a) for a in allowed)) is expected


@pytest.mark.parametrize(
    ("roles", "territory", "expected"),
    [
        (ADMIN, "dk", True),
        (ADMIN, "global", True),
        (DK_MANAGER, "dk", True),
        (DK_MANAGER, "se", False),
        (DK_MANAGER, "c_dk_aarhus", False),
        (DK_MODERATOR, "dk", False),
        (DK_CREATOR, "dk", False),
        (DK_MEMBER, "dk", False),
        ([], "dk", False),
    ],
)
def test_who_manages_a_territory(roles: list[str], territory: str, expected: bool) -> None:
    assert can_manage_territory(iter(roles), territory) is expected


@pytest.mark.parametrize(
    ("roles", "territory", "expected"),
    [
        (ADMIN, "no", True),
        (DK_MANAGER, "dk", True),
        (DK_MODERATOR, "dk", True),
        (DK_MANAGER, "no", False),
        (DK_MODERATOR, "se", False),
        (DK_CREATOR, "dk", False),
        (DK_MEMBER, "dk", False),
        (SE_MANAGER, "dk", False),
        ([], "dk", False),
    ],
)
def test_who_reads_accounts(roles: list[str], territory: str, expected: bool) -> None:
    assert can_read_accounts(iter(roles), territory) is expected


@pytest.mark.parametrize(
    ("roles", "grant", "expected"),
    [
        (ADMIN, "global_admin", True),
        (ADMIN, "territory_manager:dk", True),
        (ADMIN, "member:se", True),
        (ADMIN, "territory_manager:se", True),
        (DK_MANAGER, "moderator:dk", True),
        (DK_MANAGER, "content_creator:dk", True),
        (DK_MANAGER, "member:dk", True),
        (DK_MANAGER, "territory_manager:dk", False),
        (DK_MANAGER, "global_admin", False),
        (DK_MANAGER, "member:se", False),
        (DK_MODERATOR, "member:dk", False),
        (DK_MEMBER, "member:dk", False),
        ([], "member:dk", False),
    ],
)
def test_who_may_assign_a_grant(roles: list[str], grant: str, expected: bool) -> None:
    assert can_assign(iter(roles), Grant.parse(grant)) is expected
