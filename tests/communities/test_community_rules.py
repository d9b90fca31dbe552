"""The pure rules of communities: who sees an invite-only one, who lists members, whose
membership a caller holds. No database."""

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
)
from domain.errors import BadUserInput

ALICE = str(uuid.uuid4())
DK_ACCOUNT = Caller(user_id=ALICE, territory_id="dk", roles=frozenset({"member:dk"}))
NO_ACCOUNT = Caller(user_id=str(uuid.uuid4()), territory_id="no")
GLOBAL_ADMIN = Caller(
    user_id=str(uuid.uuid4()), territory_id="no", roles=frozenset({"global_admin"})
)


@pytest.mark.parametrize("role", list(CommunityRole))
def test_members_see_their_invite_only_community(role: CommunityRole) -> None:
    assert not hidden_from([], "dk", is_public=False, caller_community_role=role)


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


def test_community_rules() -> None:
    assert can_manage_members([], "dk", CommunityRole.ADMIN)
    assert not can_manage_members([], "dk", CommunityRole.MODERATOR)
    assert can_manage_members(["territory_manager:dk"], "dk", None)
    assert not can_manage_members(["territory_manager:no"], "dk", None)
    check_admins_remain(2, losing_admin=True)
    check_admins_remain(1, losing_admin=False)
    with pytest.raises(BadUserInput):
        check_admins_remain(1, losing_admin=True)
