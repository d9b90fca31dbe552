"""Roles in a territory go only to that territory's accounts (domain/roles.py check_recipient)."""

from __future__ import annotations

import httpx
import pytest

from db.engines import Database
from domain.errors import BadUserInput
from domain.roles import Grant, Role, check_recipient
from tests.authkit import ASSIGN_ROLE, ME, REVOKE_ROLE, account, call, codes, fields


def test_territory_roles_go_to_their_own_accounts_only() -> None:
    check_recipient(Grant(Role.MODERATOR, "dk"), "dk")
    check_recipient(Grant(Role.GLOBAL_ADMIN, None), "se")  # the one exception
    with pytest.raises(BadUserInput):
        check_recipient(Grant(Role.MODERATOR, "dk"), "se")


async def test_a_manager_cannot_make_a_foreign_account_a_moderator(
    auth_client: httpx.AsyncClient, db: Database
) -> None:
    """A dk manager made an se account a dk moderator, who then read dk's usernames and emails."""
    manager = await account(auth_client, db, "dk", role="territory_manager")
    foreign = await account(auth_client, db, "se")
    grant = {"userId": foreign["user"]["id"], "role": "MODERATOR", "territory": "dk"}
    body = await call(auth_client, ASSIGN_ROLE, {"i": grant}, manager["accessToken"])
    assert codes(body) == ["BAD_USER_INPUT"]
    assert fields(body) == ["userId"]
    me = await call(auth_client, ME, token=foreign["accessToken"])
    assert me["data"]["me"]["roles"] == [{"role": "MEMBER", "territory": "se"}]


async def test_not_even_a_global_admin_grants_across_territories(
    auth_client: httpx.AsyncClient, db: Database
) -> None:
    admin = await account(auth_client, db, "global", role="global_admin")
    foreign = await account(auth_client, db, "se")
    grant = {"userId": foreign["user"]["id"], "role": "TERRITORY_MANAGER", "territory": "dk"}
    body = await call(auth_client, ASSIGN_ROLE, {"i": grant}, admin["accessToken"])
    assert codes(body) == ["BAD_USER_INPUT"]
    # Revoking (a grant made before the rule) stays possible: nothing held, nothing revoked.
    undone = await call(auth_client, REVOKE_ROLE, {"i": grant}, admin["accessToken"])
    assert undone["data"]["revokeRole"]["revoked"] is False, undone
    # GLOBAL_ADMIN goes to any account.
    made = {"userId": foreign["user"]["id"], "role": "GLOBAL_ADMIN", "territory": None}
    ok = await call(auth_client, ASSIGN_ROLE, {"i": made}, admin["accessToken"])
    assert ok["data"]["assignRole"]["granted"] is True, ok
