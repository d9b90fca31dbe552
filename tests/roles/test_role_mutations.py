"""assignRole and revokeRole over GraphQL: who may, the payloads, audit, and revocation that
reaches live access tokens."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from sqlalchemy import text

from db import roles as role_db
from db.engines import Database
from domain.roles import Grant as RoleGrant
from domain.roles import Role
from graph import ids
from tests.authkit import (
    ASSIGN_ROLE,
    ME,
    REFRESH,
    REVOKE_ROLE,
    account,
    audit_actions_since,
    call,
    codes,
    fields,
    last_audit_id,
)

Account = dict[str, Any]
Grant = dict[str, Any]


async def dk_pair(client: httpx.AsyncClient, db: Database) -> tuple[Account, Account, Grant]:
    """A dk manager, a dk member and the MODERATOR grant in dk for the member."""
    manager = await account(client, db, "dk", role="territory_manager")
    member = await account(client, db, "dk")
    return manager, member, {"userId": member["user"]["id"], "role": "MODERATOR", "territory": "dk"}


async def test_only_managers_of_the_territory_may_grant(
    auth_client: httpx.AsyncClient, db: Database
) -> None:
    _, member, grant = await dk_pair(auth_client, db)
    # A member cannot grant; a manager of another territory cannot grant in dk.
    assert codes(await call(auth_client, ASSIGN_ROLE, {"i": grant}, member["accessToken"])) == [
        "FORBIDDEN"
    ]
    outsider = await account(auth_client, db, "no", role="territory_manager")
    assert codes(await call(auth_client, ASSIGN_ROLE, {"i": grant}, outsider["accessToken"])) == [
        "FORBIDDEN"
    ]


async def test_managers_may_not_make_managers_or_admins(
    auth_client: httpx.AsyncClient, db: Database
) -> None:
    manager, _, grant = await dk_pair(auth_client, db)
    for role, territory in (("TERRITORY_MANAGER", "dk"), ("GLOBAL_ADMIN", None)):
        body = await call(
            auth_client,
            ASSIGN_ROLE,
            {"i": {**grant, "role": role, "territory": territory}},
            manager["accessToken"],
        )
        assert codes(body) == ["FORBIDDEN"]


async def test_a_grant_is_audited_once_and_reaches_the_next_token(
    auth_client: httpx.AsyncClient, db: Database
) -> None:
    manager, member, grant = await dk_pair(auth_client, db)
    before = await last_audit_id(db)
    body = await call(auth_client, ASSIGN_ROLE, {"i": grant}, manager["accessToken"])
    assert body["data"]["assignRole"]["granted"] is True
    again = await call(auth_client, ASSIGN_ROLE, {"i": grant}, manager["accessToken"])
    assert again["data"]["assignRole"]["granted"] is False  # idempotent, not audited twice
    assert await audit_actions_since(db, before) == ["role.assigned"]

    # The new role is in the next access token, after a refresh.
    renewed = (await call(auth_client, REFRESH, {"t": member["refreshToken"]}))["data"][
        "refreshSession"
    ]
    me = await call(auth_client, ME, token=renewed["accessToken"])
    assert {"role": "MODERATOR", "territory": "dk"} in me["data"]["me"]["roles"], (me, grant)
    # A moderator reads accounts of their territory, the manager too.
    node = "query($id: ID!) { node(id: $id) { ... on User { username } } }"
    body = await call(auth_client, node, {"id": manager["user"]["id"]}, renewed["accessToken"])
    assert body["data"]["node"]["username"] == manager["user"]["username"]


async def test_a_revocation_is_audited(auth_client: httpx.AsyncClient, db: Database) -> None:
    manager, _, grant = await dk_pair(auth_client, db)
    body = await call(auth_client, ASSIGN_ROLE, {"i": grant}, manager["accessToken"])
    assert body["data"]["assignRole"]["granted"] is True
    before = await last_audit_id(db)
    body = await call(auth_client, REVOKE_ROLE, {"i": grant}, manager["accessToken"])
    assert body["data"]["revokeRole"]["revoked"] is True
    assert await audit_actions_since(db, before) == ["role.revoked"]


async def test_a_territory_role_needs_its_territory(
    auth_client: httpx.AsyncClient, db: Database
) -> None:
    manager, _, grant = await dk_pair(auth_client, db)
    bad = await call(
        auth_client, ASSIGN_ROLE, {"i": {**grant, "territory": None}}, manager["accessToken"]
    )
    assert codes(bad) == ["BAD_USER_INPUT"]


async def test_global_admin_from_the_global_territory(
    auth_client: httpx.AsyncClient, db: Database
) -> None:
    admin = await account(auth_client, db, "global", role="global_admin")
    me = await call(auth_client, ME, token=admin["accessToken"])
    assert {"role": "GLOBAL_ADMIN", "territory": None} in me["data"]["me"]["roles"]
    member = await account(auth_client, db, "se")
    body = await call(
        auth_client,
        ASSIGN_ROLE,
        {"i": {"userId": member["user"]["id"], "role": "TERRITORY_MANAGER", "territory": "se"}},
        admin["accessToken"],
    )
    assert body["data"]["assignRole"]["granted"] is True, body
    listed = await call(
        auth_client, 'query { invitations(territory: "se") { id } }', token=admin["accessToken"]
    )
    assert "errors" not in listed


async def test_a_revoked_role_stops_working_before_the_token_expires(
    auth_client: httpx.AsyncClient, db: Database
) -> None:
    """A demoted manager kept managing with their access token for its whole lifetime."""
    admin = await account(auth_client, db, "global", role="global_admin")
    manager = await account(auth_client, db, "dk", role="territory_manager")
    grant = {"userId": manager["user"]["id"], "role": "TERRITORY_MANAGER", "territory": "dk"}
    listing = 'query { invitations(territory: "dk") { id } }'
    assert "errors" not in await call(auth_client, listing, token=manager["accessToken"])

    revoked = await call(auth_client, REVOKE_ROLE, {"i": grant}, admin["accessToken"])
    assert revoked["data"]["revokeRole"]["revoked"] is True
    assert codes(await call(auth_client, listing, token=manager["accessToken"])) == [
        "UNAUTHENTICATED"
    ]
    # Refreshing gives a token without the role: it works, and may no longer manage.
    renewed = (await call(auth_client, REFRESH, {"t": manager["refreshToken"]}))["data"][
        "refreshSession"
    ]
    assert codes(await call(auth_client, listing, token=renewed["accessToken"])) == ["FORBIDDEN"]
    assert "errors" not in await call(auth_client, "{ me { id } }", token=renewed["accessToken"])

    # Granted again: a token carrying the role is accepted again.
    regranted = await call(auth_client, ASSIGN_ROLE, {"i": grant}, admin["accessToken"])
    assert regranted["data"]["assignRole"]["granted"] is True
    again = (await call(auth_client, REFRESH, {"t": renewed["refreshToken"]}))["data"][
        "refreshSession"
    ]
    assert "errors" not in await call(auth_client, listing, token=again["accessToken"])


async def test_payloads_carry_the_grant_and_the_account_read_after_the_change(
    auth_client: httpx.AsyncClient, db: Database
) -> None:
    manager = await account(auth_client, db, "se", role="territory_manager")
    member = await account(auth_client, db, "se")
    grant = {"userId": member["user"]["id"], "role": "CONTENT_CREATOR", "territory": "se"}
    assigned = (await call(auth_client, ASSIGN_ROLE, {"i": grant}, manager["accessToken"]))["data"][
        "assignRole"
    ]
    assert assigned["grant"] == {"role": "CONTENT_CREATOR", "territory": "se"}
    assert assigned["user"]["id"] == member["user"]["id"]
    assert {"role": "CONTENT_CREATOR", "territory": "se"} in assigned["user"]["roles"]
    revoked = (await call(auth_client, REVOKE_ROLE, {"i": grant}, manager["accessToken"]))["data"][
        "revokeRole"
    ]
    assert revoked["grant"] == {"role": "CONTENT_CREATOR", "territory": "se"}
    assert {"role": "CONTENT_CREATOR", "territory": "se"} not in revoked["user"]["roles"]
    again = (await call(auth_client, REVOKE_ROLE, {"i": grant}, manager["accessToken"]))["data"][
        "revokeRole"
    ]
    assert again["revoked"] is False


async def test_the_payload_hides_an_account_the_caller_may_not_read(
    auth_client: httpx.AsyncClient, auth_app: Any, db: Database
) -> None:
    """A dk manager reads only dk accounts. Roles in dk now go only to dk accounts
    (tests/roles/test_role_territories.py), so the foreign holder here has a grant made before
    that rule, which the manager may still revoke."""
    manager = await account(auth_client, db, "dk", role="territory_manager")
    outsider = await account(auth_client, db, "no")
    grant = {"userId": outsider["user"]["id"], "role": "MEMBER", "territory": "dk"}
    key = ids.decode(outsider["user"]["id"])
    ihash = auth_app.state.auth.config.identity("no", uuid.UUID(key.key))
    async with db.transaction("main") as conn:
        assert await role_db.change_role(
            conn, ihash, RoleGrant(Role.MEMBER, "dk"), assign=True, actor=None
        )
    body = await call(auth_client, REVOKE_ROLE, {"i": grant}, manager["accessToken"])
    assert "errors" not in body, body
    assert body["data"]["revokeRole"]["revoked"] is True
    assert body["data"]["revokeRole"]["user"] is None


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"userId": "not an id"}, "userId"),
        ({"territory": None}, "territory"),
        ({"territory": "DK"}, "territory"),
        ({"role": "GLOBAL_ADMIN"}, "territory"),
    ],
)
async def test_role_refusals_name_their_field(
    auth_client: httpx.AsyncClient, db: Database, change: dict[str, object], field: str
) -> None:
    admin = await account(auth_client, db, "global", role="global_admin")
    member = await account(auth_client, db, "dk")
    grant = {"userId": member["user"]["id"], "role": "MODERATOR", "territory": "dk", **change}
    for mutation in (ASSIGN_ROLE, REVOKE_ROLE):
        body = await call(auth_client, mutation, {"i": grant}, admin["accessToken"])
        assert codes(body) == ["BAD_USER_INPUT"], body
        assert fields(body) == [field]


@pytest.fixture
async def failing_revocation_audit(db: Database) -> AsyncIterator[None]:
    """Make the audit entry of a revocation fail, for real: the last write of the change, after
    the grant row was updated and the Redis refusal was registered to follow the commit."""
    async with db.transaction("main") as conn:
        await conn.execute(
            text(
                "CREATE FUNCTION global.test_refuse_audit() RETURNS trigger LANGUAGE plpgsql AS "
                "$$ BEGIN RAISE EXCEPTION 'refused by test'; END $$"
            )
        )
        await conn.execute(
            text(
                "CREATE TRIGGER test_refuse_audit BEFORE INSERT ON global.audit_log "
                "FOR EACH ROW WHEN (NEW.action = 'role.revoked') "
                "EXECUTE FUNCTION global.test_refuse_audit()"
            )
        )
    try:
        yield
    finally:
        async with db.transaction("main") as conn:
            await conn.execute(text("DROP TRIGGER test_refuse_audit ON global.audit_log"))
            await conn.execute(text("DROP FUNCTION global.test_refuse_audit()"))


async def test_a_failed_revocation_changes_nothing_anywhere(
    auth_client: httpx.AsyncClient, db: Database, failing_revocation_audit: None
) -> None:
    """The grant stays, unaudited, and Redis does not refuse it: effects follow commits only."""
    admin = await account(auth_client, db, "global", role="global_admin")
    manager = await account(auth_client, db, "dk", role="territory_manager")
    grant = {"userId": manager["user"]["id"], "role": "TERRITORY_MANAGER", "territory": "dk"}
    before = await last_audit_id(db)
    body = await call(auth_client, REVOKE_ROLE, {"i": grant}, admin["accessToken"])
    assert codes(body) == ["INTERNAL_SERVER_ERROR"], body
    assert await audit_actions_since(db, before) == []
    listing = 'query { invitations(territory: "dk") { id } }'
    assert "errors" not in await call(auth_client, listing, token=manager["accessToken"])
    me = await call(auth_client, ME, token=manager["accessToken"])
    assert {"role": "TERRITORY_MANAGER", "territory": "dk"} in me["data"]["me"]["roles"]
