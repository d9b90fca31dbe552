"""Reading invitations: a territory's list with its uses, and `node(id:)` for managers only."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from db.engines import Database
from tests.authkit import (
    ASSIGN_ROLE,
    CREATE_INVITATION,
    account,
    assert_refused,
    call,
    codes,
    invite,
    register,
    unique,
)

NODE = "query($id: ID!) { node(id: $id) { id __typename ... on Invitation { territory } } }"


async def test_group_invitation_tracks_who_and_when(
    auth_client: httpx.AsyncClient, db: Database
) -> None:
    manager = await account(auth_client, db, "se", role="territory_manager")
    created = await call(
        auth_client,
        CREATE_INVITATION,
        {"input": {"territory": "se", "maxUses": 2, "role": "CONTENT_CREATOR"}},
        manager["accessToken"],
    )
    token = created["data"]["createInvitation"]["token"]
    names = [unique(), unique()]
    for name in names:
        assert "errors" not in await register(auth_client, token, name)
    await assert_refused(auth_client, db, "se", token, "INVITATION_EXHAUSTED")
    listed = await call(
        auth_client,
        'query { invitations(territory: "se", first: 5) '
        "{ id maxUses useCount role uses { usedAt user { username } } } }",
        token=manager["accessToken"],
    )
    assert "errors" not in listed, listed
    (mine,) = [
        i
        for i in listed["data"]["invitations"]
        if i["id"] == created["data"]["createInvitation"]["invitation"]["id"]
    ]
    assert mine["useCount"] == 2
    assert mine["role"] == "CONTENT_CREATOR"
    assert [u["user"]["username"] for u in mine["uses"]] == names
    assert all(u["usedAt"] for u in mine["uses"])


async def test_statements_do_not_grow_with_invitation_uses(
    auth_client: httpx.AsyncClient, db: Database, statements: Any
) -> None:
    manager = await account(auth_client, db, "c_dk_aarhus", role="territory_manager")
    query = (
        'query { invitations(territory: "c_dk_aarhus", first: 50) '
        "{ id useCount uses { usedAt user { username territory { code } } } } }"
    )
    counts = []
    for uses in (1, 6):
        token = await invite(db, "c_dk_aarhus", max_uses=uses)
        for _ in range(uses):
            assert "errors" not in await register(auth_client, token)
        statements.statements.clear()
        body = await call(auth_client, query, token=manager["accessToken"])
        assert "errors" not in body, body
        assert max(i["useCount"] for i in body["data"]["invitations"]) == uses
        counts.append(statements.count)
    assert counts[0] == counts[1], counts


async def created_invitation(client: httpx.AsyncClient, db: Database, territory: str) -> str:
    manager = await account(client, db, territory, role="territory_manager")
    body = await call(
        client, CREATE_INVITATION, {"input": {"territory": territory}}, manager["accessToken"]
    )
    assert "errors" not in body, body
    invitation_id: str = body["data"]["createInvitation"]["invitation"]["id"]
    return invitation_id


@pytest.fixture(scope="module")
async def dk_manager(auth_client: httpx.AsyncClient, db: Database) -> dict[str, Any]:
    return await account(auth_client, db, "dk", role="territory_manager")


@pytest.fixture(scope="module")
async def dk_moderator(
    auth_client: httpx.AsyncClient, db: Database, dk_manager: dict[str, Any]
) -> dict[str, Any]:
    """A dk member made moderator by the dk manager (managers may grant it), then logged in."""
    member = await account(auth_client, db, "dk")
    grant = {"userId": member["user"]["id"], "role": "MODERATOR", "territory": "dk"}
    body = await call(auth_client, ASSIGN_ROLE, {"i": grant}, dk_manager["accessToken"])
    assert body["data"]["assignRole"]["granted"] is True, body
    renewed = await call(
        auth_client,
        "mutation($t: String!) { refreshSession(refreshToken: $t) { accessToken } }",
        {"t": member["refreshToken"]},
    )
    result: dict[str, Any] = renewed["data"]["refreshSession"]
    return result


async def test_a_manager_refetches_an_invitation_of_their_territory(
    auth_client: httpx.AsyncClient, db: Database, dk_manager: dict[str, Any]
) -> None:
    invitation_id = await created_invitation(auth_client, db, "dk")
    body = await call(auth_client, NODE, {"id": invitation_id}, dk_manager["accessToken"])
    assert body["data"]["node"] == {
        "id": invitation_id,
        "__typename": "Invitation",
        "territory": "dk",
    }


async def test_a_manager_of_another_territory_gets_not_found(
    auth_client: httpx.AsyncClient, db: Database, dk_manager: dict[str, Any]
) -> None:
    invitation_id = await created_invitation(auth_client, db, "se")
    body = await call(auth_client, NODE, {"id": invitation_id}, dk_manager["accessToken"])
    assert codes(body) == ["NOT_FOUND"], body
    nodes = await call(
        auth_client,
        "query($ids: [ID!]!) { nodes(ids: $ids) { id } }",
        {"ids": [invitation_id]},
        dk_manager["accessToken"],
    )
    assert nodes["data"]["nodes"] == [None]


@pytest.mark.parametrize("territory", ["se", "dk"])
async def test_a_moderator_gets_not_found(
    auth_client: httpx.AsyncClient,
    db: Database,
    dk_moderator: dict[str, Any],
    territory: str,
) -> None:
    """Moderators read accounts, not invitations: not even their own territory's."""
    invitation_id = await created_invitation(auth_client, db, territory)
    body = await call(auth_client, NODE, {"id": invitation_id}, dk_moderator["accessToken"])
    assert codes(body) == ["NOT_FOUND"], body


async def test_anonymous_callers_get_not_found(
    auth_client: httpx.AsyncClient, db: Database
) -> None:
    invitation_id = await created_invitation(auth_client, db, "dk")
    assert codes(await call(auth_client, NODE, {"id": invitation_id})) == ["NOT_FOUND"]


async def test_a_global_admin_refetches_any_invitation(
    auth_client: httpx.AsyncClient, db: Database
) -> None:
    admin = await account(auth_client, db, "global", role="global_admin")
    invitation_id = await created_invitation(auth_client, db, "se")
    body = await call(auth_client, NODE, {"id": invitation_id}, admin["accessToken"])
    assert body["data"]["node"]["territory"] == "se"
