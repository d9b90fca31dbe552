"""Reading social groups: only their owner ever finds them, by list or by ``node``."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from db.engines import Database
from graph import ids
from tests.authkit import account, call, codes

SERVERS = pytest.mark.parametrize("territory", ["dk", "se"])  # main server, second server

CREATE = """
mutation($n: String!) { createSocialGroup(input: {name: $n}) { socialGroup { id name } } }"""
ADD = """
mutation($g: ID!, $u: ID!) { addToSocialGroup(input: {groupId: $g, userId: $u}) { wasMember } }"""
GROUPS = "{ me { socialGroups { id kind name members { userId } } } }"
NODE = """
query($id: ID!) { node(id: $id) { __typename id ... on SocialGroup { name kind members {
  userId } } } }"""


def ok(body: dict[str, Any]) -> dict[str, Any]:
    assert "errors" not in body, body
    data: dict[str, Any] = body["data"]
    return data


async def test_groups_list_family_and_friends_first(
    auth_client: httpx.AsyncClient, db: Database
) -> None:
    token = (await account(auth_client, db, "dk"))["accessToken"]
    for name in ("zebras", "Alpacas"):
        ok(await call(auth_client, CREATE, {"n": name}, token))
    groups = ok(await call(auth_client, GROUPS, token=token))["me"]["socialGroups"]
    assert [(g["kind"], g["name"]) for g in groups] == [
        ("FAMILY", "Family"),
        ("FRIENDS", "Friends"),
        ("CUSTOM", "Alpacas"),
        ("CUSTOM", "zebras"),
    ]


async def test_a_manager_reading_the_account_gets_no_groups_or_settings(
    auth_client: httpx.AsyncClient, db: Database
) -> None:
    owner = await account(auth_client, db, "dk")
    manager = await account(auth_client, db, "dk", role="territory_manager")
    q = (
        "query($id: ID!) { node(id: $id) { ... on User { socialGroups { id } "
        "notificationPreferences { quietHours { start } } } } }"
    )
    seen = ok(await call(auth_client, q, {"id": owner["user"]["id"]}, manager["accessToken"]))
    assert seen["node"] == {"socialGroups": None, "notificationPreferences": None}


@SERVERS
async def test_the_owner_refetches_a_custom_group(
    auth_client: httpx.AsyncClient, db: Database, territory: str
) -> None:
    owner = await account(auth_client, db, territory)
    friend = await account(auth_client, db, "no")
    token = owner["accessToken"]
    group = ok(await call(auth_client, CREATE, {"n": "Choir"}, token))["createSocialGroup"]
    group_id = group["socialGroup"]["id"]
    ok(await call(auth_client, ADD, {"g": group_id, "u": friend["user"]["id"]}, token))
    assert ok(await call(auth_client, NODE, {"id": group_id}, token))["node"] == {
        "__typename": "SocialGroup",
        "id": group_id,
        "name": "Choir",
        "kind": "CUSTOM",
        "members": [{"userId": friend["user"]["id"]}],
    }


@SERVERS
async def test_the_owner_refetches_family_before_it_was_ever_written(
    auth_client: httpx.AsyncClient, db: Database, territory: str
) -> None:
    token = (await account(auth_client, db, territory))["accessToken"]
    family = ok(await call(auth_client, GROUPS, token=token))["me"]["socialGroups"][0]
    found = ok(await call(auth_client, NODE, {"id": family["id"]}, token))["node"]
    assert (found["id"], found["kind"], found["members"]) == (family["id"], "FAMILY", [])


@SERVERS
async def test_anyone_but_the_owner_gets_not_found_for_a_group(
    auth_client: httpx.AsyncClient, db: Database, territory: str
) -> None:
    owner = await account(auth_client, db, territory)
    token = owner["accessToken"]
    group = ok(await call(auth_client, CREATE, {"n": "Choir"}, token))["createSocialGroup"]
    group_id = group["socialGroup"]["id"]
    family = ok(await call(auth_client, GROUPS, token=token))["me"]["socialGroups"][0]["id"]
    member = await account(auth_client, db, "no")
    ok(await call(auth_client, ADD, {"g": group_id, "u": member["user"]["id"]}, token))
    strangers = [
        await account(auth_client, db, territory),
        await account(auth_client, db, territory, role="territory_manager"),
        member,  # being in the group does not show the group
    ]
    for viewer in [*(s["accessToken"] for s in strangers), None]:
        for forged in (group_id, family):
            assert codes(await call(auth_client, NODE, {"id": forged}, viewer)) == ["NOT_FOUND"]
        listed = ok(
            await call(
                auth_client,
                "query($ids: [ID!]!) { nodes(ids: $ids) { id } }",
                {"ids": [group_id]},
                viewer,
            )
        )
        assert listed["nodes"] == [None]


async def test_a_group_id_under_another_territory_finds_nothing(
    auth_client: httpx.AsyncClient, db: Database
) -> None:
    """The same user id in another territory is another person: their groups are not yours."""
    token = (await account(auth_client, db, "dk"))["accessToken"]
    group = ok(await call(auth_client, CREATE, {"n": "Choir"}, token))["createSocialGroup"]
    forged = ids.encode("SocialGroup", "se", ids.decode(group["socialGroup"]["id"]).key)
    assert codes(await call(auth_client, NODE, {"id": forged}, token)) == ["NOT_FOUND"]
