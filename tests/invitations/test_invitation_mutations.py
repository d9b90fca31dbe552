"""createInvitation and revokeInvitation over GraphQL: who may, the terms, the payloads, audit."""

from __future__ import annotations

import base64

import httpx
import pytest
from sqlalchemy import text

from db.engines import Database
from tests.authkit import (
    CREATE_INVITATION,
    REVOKE_INVITATION,
    account,
    assert_refused,
    audit_actions_since,
    call,
    codes,
    fields,
    last_audit_id,
)


async def test_a_revoked_invitation_registers_no_one_and_is_audited(
    auth_client: httpx.AsyncClient, db: Database
) -> None:
    manager = await account(auth_client, db, "no", role="territory_manager")
    created = await call(
        auth_client,
        CREATE_INVITATION,
        {"input": {"territory": "no", "maxUses": 3}},
        manager["accessToken"],
    )
    assert "errors" not in created, created
    token = created["data"]["createInvitation"]["token"]
    invitation_id = created["data"]["createInvitation"]["invitation"]["id"]
    revoked = await call(
        auth_client,
        REVOKE_INVITATION,
        {"input": {"id": invitation_id}},
        manager["accessToken"],
    )
    assert revoked["data"]["revokeInvitation"]["invitation"]["revokedAt"] is not None
    await assert_refused(auth_client, db, "no", token, "INVITATION_REVOKED")
    async with db.connect("main") as conn:
        actions = (
            await conn.execute(
                text("SELECT action FROM global.audit_log WHERE target = :t ORDER BY id"),
                {"t": invitation_id and _key(invitation_id)},
            )
        ).scalars()
        assert list(actions) == ["invitation.created", "invitation.revoked"]


async def test_a_member_may_not_revoke_and_learns_nothing(
    auth_client: httpx.AsyncClient, db: Database
) -> None:
    manager = await account(auth_client, db, "no", role="territory_manager")
    created = await call(
        auth_client, CREATE_INVITATION, {"input": {"territory": "no"}}, manager["accessToken"]
    )
    invitation_id = created["data"]["createInvitation"]["invitation"]["id"]
    member = await account(auth_client, db, "no")
    body = await call(
        auth_client,
        REVOKE_INVITATION,
        {"input": {"id": invitation_id}},
        member["accessToken"],
    )
    assert codes(body) == ["NOT_FOUND"]


def _key(global_id: str) -> str:
    return base64.urlsafe_b64decode(global_id + "==").decode().split(":")[2]


async def test_manager_may_not_invite_managers_or_admins(
    auth_client: httpx.AsyncClient, db: Database
) -> None:
    manager = await account(auth_client, db, "dk", role="territory_manager")
    for role in ("TERRITORY_MANAGER", "GLOBAL_ADMIN"):
        body = await call(
            auth_client,
            CREATE_INVITATION,
            {"input": {"territory": "dk", "role": role}},
            manager["accessToken"],
        )
        assert codes(body) in (["FORBIDDEN"], ["BAD_USER_INPUT"]), body
    for bad in ({"maxUses": 0}, {"expiresInHours": 0}, {"email": "not-an-email"}):
        body = await call(
            auth_client,
            CREATE_INVITATION,
            {"input": {"territory": "dk", **bad}},
            manager["accessToken"],
        )
        assert codes(body) == ["BAD_USER_INPUT"], (bad, body)


async def test_create_invitation_payload(auth_client: httpx.AsyncClient, db: Database) -> None:
    manager = await account(auth_client, db, "dk", role="territory_manager")
    body = await call(
        auth_client,
        """mutation($input: CreateInvitationInput!) { createInvitation(input: $input) {
          __typename token invitation { __typename territory maxUses useCount role email } } }""",
        {"input": {"territory": "dk", "maxUses": 4, "email": "guest@example.org"}},
        manager["accessToken"],
    )
    assert "errors" not in body, body
    created = body["data"]["createInvitation"]
    assert created["__typename"] == "CreateInvitationPayload"
    assert created["token"].startswith("dk.")
    assert created["invitation"] == {
        "__typename": "Invitation",
        "territory": "dk",
        "maxUses": 4,
        "useCount": 0,
        "role": "MEMBER",
        "email": "guest@example.org",
    }


@pytest.mark.parametrize(
    ("terms", "field"),
    [
        ({"territory": "DK!"}, "territory"),
        ({"maxUses": 0}, "maxUses"),
        ({"expiresInHours": 0}, "expiresInHours"),
        ({"expiresInHours": 10_000}, "expiresInHours"),
        ({"email": "not-an-email"}, "email"),
        ({"role": "GLOBAL_ADMIN"}, "role"),
    ],
)
async def test_create_invitation_refusals_name_their_field(
    auth_client: httpx.AsyncClient, db: Database, terms: dict[str, object], field: str
) -> None:
    admin = await account(auth_client, db, "global", role="global_admin")
    body = await call(
        auth_client,
        CREATE_INVITATION,
        {"input": {"territory": "dk", **terms}},
        admin["accessToken"],
    )
    assert codes(body) == ["BAD_USER_INPUT"], body
    assert fields(body) == [field]


async def test_revoking_twice_changes_nothing_the_second_time(
    auth_client: httpx.AsyncClient, db: Database
) -> None:
    manager = await account(auth_client, db, "se", role="territory_manager")
    created = await call(
        auth_client, CREATE_INVITATION, {"input": {"territory": "se"}}, manager["accessToken"]
    )
    invitation_id = created["data"]["createInvitation"]["invitation"]["id"]
    before = await last_audit_id(db)
    first = await call(
        auth_client, REVOKE_INVITATION, {"input": {"id": invitation_id}}, manager["accessToken"]
    )
    second = await call(
        auth_client, REVOKE_INVITATION, {"input": {"id": invitation_id}}, manager["accessToken"]
    )
    assert first["data"]["revokeInvitation"]["revokedNow"] is True
    assert second["data"]["revokeInvitation"]["revokedNow"] is False
    assert (
        second["data"]["revokeInvitation"]["invitation"]
        == first["data"]["revokeInvitation"]["invitation"]
    )
    assert await audit_actions_since(db, before) == ["invitation.revoked"]


async def test_revoke_refuses_an_id_of_another_type(
    auth_client: httpx.AsyncClient, db: Database
) -> None:
    manager = await account(auth_client, db, "dk", role="territory_manager")
    body = await call(
        auth_client,
        REVOKE_INVITATION,
        {"input": {"id": manager["user"]["id"]}},
        manager["accessToken"],
    )
    assert codes(body) == ["BAD_USER_INPUT"]
    assert fields(body) == ["id"]
