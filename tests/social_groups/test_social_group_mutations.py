"""Keeping social groups over GraphQL with real tokens, on both database servers."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest

from db.engines import Database
from graph import ids
from tests.authkit import account, call, codes

SERVERS = pytest.mark.parametrize("territory", ["dk", "se"])  # main server, second server

CREATE = """
mutation($n: String!) { createSocialGroup(input: {name: $n}) { socialGroup { id name kind } } }"""
RENAME = """
mutation($id: ID!, $n: String!) {
  renameSocialGroup(input: {id: $id, name: $n}) { socialGroup { id name kind } }
}"""
DELETE = "mutation($id: ID!) { deleteSocialGroup(input: {id: $id}) { deletedId } }"
ADD = """
mutation($g: ID!, $u: ID!) {
  addToSocialGroup(input: {groupId: $g, userId: $u}) {
    socialGroup { id name } wasMember member { userId profile { territory } }
  }
}"""
REMOVE = """
mutation($g: ID!, $u: ID!) {
  removeFromSocialGroup(input: {groupId: $g, userId: $u}) {
    socialGroup { id } removedUserId wasMember
  }
}"""
GROUPS = "{ me { socialGroups { id kind name members { userId } } } }"


def ok(body: dict[str, Any]) -> dict[str, Any]:
    assert "errors" not in body, body
    data: dict[str, Any] = body["data"]
    return data


def field_of(body: dict[str, Any]) -> str | None:
    assert len(body["errors"]) == 1, body
    found: str | None = body["errors"][0]["extensions"].get("field")
    return found


async def create(client: httpx.AsyncClient, token: str, name: str = "Choir") -> dict[str, Any]:
    group: dict[str, Any] = ok(await call(client, CREATE, {"n": name}, token))["createSocialGroup"]
    return group["socialGroup"]


async def family_of(client: httpx.AsyncClient, token: str) -> str:
    groups = ok(await call(client, GROUPS, token=token))["me"]["socialGroups"]
    family: str = groups[0]["id"]
    return family


@SERVERS
async def test_create_social_group_returns_the_group(
    auth_client: httpx.AsyncClient, db: Database, territory: str
) -> None:
    owner = await account(auth_client, db, territory)
    group = await create(auth_client, owner["accessToken"], " Choir ")
    assert (group["name"], group["kind"]) == ("Choir", "CUSTOM")
    key = ids.decode(group["id"])
    assert (key.type_name, key.territory_id) == ("SocialGroup", territory)


@pytest.mark.parametrize(
    ("name", "code"),
    [
        ("Choir", "ALREADY_EXISTS"),  # taken by the group made first
        ("family", "BAD_USER_INPUT"),
        ("", "BAD_USER_INPUT"),
        ("x" * 65, "BAD_USER_INPUT"),
    ],
)
async def test_create_social_group_refusals_name_the_field(
    auth_client: httpx.AsyncClient, db: Database, name: str, code: str
) -> None:
    token = (await account(auth_client, db, "dk"))["accessToken"]
    await create(auth_client, token, "Choir")
    body = await call(auth_client, CREATE, {"n": name}, token)
    assert codes(body) == [code]
    assert field_of(body) == "name"


@SERVERS
async def test_add_to_social_group_says_whether_they_were_in_it(
    auth_client: httpx.AsyncClient, db: Database, territory: str
) -> None:
    owner = await account(auth_client, db, territory)
    friend = await account(auth_client, db, "fn_sami")
    token = owner["accessToken"]
    group = await create(auth_client, token)
    variables = {"g": group["id"], "u": friend["user"]["id"]}
    first = ok(await call(auth_client, ADD, variables, token))["addToSocialGroup"]
    assert first == {
        "socialGroup": {"id": group["id"], "name": "Choir"},
        "wasMember": False,
        # Their profile follows THEIR settings (TERRITORY by default): keeping someone in a
        # group of yours shows you nothing more of them.
        "member": {"userId": friend["user"]["id"], "profile": None},
    }
    again = ok(await call(auth_client, ADD, variables, token))["addToSocialGroup"]
    assert again["wasMember"] is True
    listed = ok(await call(auth_client, GROUPS, token=token))["me"]["socialGroups"]
    assert listed[2]["members"] == [{"userId": friend["user"]["id"]}]


async def test_adding_yourself_is_refused_by_name(
    auth_client: httpx.AsyncClient, db: Database
) -> None:
    owner = await account(auth_client, db, "dk")
    group = await create(auth_client, owner["accessToken"])
    variables = {"g": group["id"], "u": owner["user"]["id"]}
    body = await call(auth_client, ADD, variables, owner["accessToken"])
    assert codes(body) == ["BAD_USER_INPUT"]
    assert field_of(body) == "userId"


async def test_adding_nobody_is_not_found_by_name(
    auth_client: httpx.AsyncClient, db: Database
) -> None:
    owner = await account(auth_client, db, "dk")
    group = await create(auth_client, owner["accessToken"])
    missing = ids.encode("User", "no", str(uuid.uuid4()))
    body = await call(auth_client, ADD, {"g": group["id"], "u": missing}, owner["accessToken"])
    assert codes(body) == ["NOT_FOUND"]
    assert field_of(body) == "userId"


async def test_a_group_id_of_another_type_is_refused_by_name(
    auth_client: httpx.AsyncClient, db: Database
) -> None:
    owner = await account(auth_client, db, "dk")
    variables = {"g": owner["user"]["id"], "u": owner["user"]["id"]}
    for query in (ADD, REMOVE):
        body = await call(auth_client, query, variables, owner["accessToken"])
        assert codes(body) == ["BAD_USER_INPUT"]
        assert field_of(body) == "groupId"


async def test_someone_else_cannot_touch_my_group(
    auth_client: httpx.AsyncClient, db: Database
) -> None:
    owner = await account(auth_client, db, "dk")
    group = await create(auth_client, owner["accessToken"])
    for territory in ("dk", "fn_sami"):
        other = await account(auth_client, db, territory)
        token = other["accessToken"]
        variables = {"g": group["id"], "u": owner["user"]["id"]}
        for query, args in (
            (ADD, variables),
            (REMOVE, variables),
            (RENAME, {"id": group["id"], "n": "Mine"}),
            (DELETE, {"id": group["id"]}),
        ):
            assert codes(await call(auth_client, query, args, token)) == ["NOT_FOUND"], query
    assert (await create(auth_client, owner["accessToken"], "Other"))["name"] == "Other"
    listed = ok(await call(auth_client, GROUPS, token=owner["accessToken"]))["me"]["socialGroups"]
    assert [g["name"] for g in listed] == ["Family", "Friends", "Choir", "Other"]


@SERVERS
async def test_rename_social_group_returns_the_group(
    auth_client: httpx.AsyncClient, db: Database, territory: str
) -> None:
    token = (await account(auth_client, db, territory))["accessToken"]
    group = await create(auth_client, token)
    renamed = ok(await call(auth_client, RENAME, {"id": group["id"], "n": "Singers"}, token))
    assert renamed == {
        "renameSocialGroup": {
            "socialGroup": {"id": group["id"], "name": "Singers", "kind": "CUSTOM"}
        }
    }


async def test_family_keeps_its_name_and_stays(
    auth_client: httpx.AsyncClient, db: Database
) -> None:
    token = (await account(auth_client, db, "dk"))["accessToken"]
    family = await family_of(auth_client, token)
    for query, args in ((RENAME, {"id": family, "n": "Kin"}), (DELETE, {"id": family})):
        body = await call(auth_client, query, args, token)
        assert codes(body) == ["BAD_USER_INPUT"], query
        assert field_of(body) == "id"


async def test_rename_to_a_taken_name_is_refused_by_name(
    auth_client: httpx.AsyncClient, db: Database
) -> None:
    token = (await account(auth_client, db, "dk"))["accessToken"]
    await create(auth_client, token, "Choir")
    other = await create(auth_client, token, "Band")
    body = await call(auth_client, RENAME, {"id": other["id"], "n": "choir"}, token)
    assert codes(body) == ["ALREADY_EXISTS"]
    assert field_of(body) == "name"


@SERVERS
async def test_delete_social_group_returns_the_deleted_id(
    auth_client: httpx.AsyncClient, db: Database, territory: str
) -> None:
    token = (await account(auth_client, db, territory))["accessToken"]
    group = await create(auth_client, token)
    assert ok(await call(auth_client, DELETE, {"id": group["id"]}, token)) == {
        "deleteSocialGroup": {"deletedId": group["id"]}
    }
    listed = ok(await call(auth_client, GROUPS, token=token))["me"]["socialGroups"]
    assert [g["kind"] for g in listed] == ["FAMILY", "FRIENDS"]
    body = await call(auth_client, DELETE, {"id": group["id"]}, token)
    assert codes(body) == ["NOT_FOUND"]
    assert field_of(body) == "id"


@SERVERS
async def test_remove_from_social_group_says_whether_they_were_in_it(
    auth_client: httpx.AsyncClient, db: Database, territory: str
) -> None:
    owner = await account(auth_client, db, territory)
    friend = await account(auth_client, db, "no")
    token = owner["accessToken"]
    family = await family_of(auth_client, token)  # never written yet: its id is derived
    ok(await call(auth_client, ADD, {"g": family, "u": friend["user"]["id"]}, token))
    key = ids.decode(friend["user"]["id"])
    by_profile = ids.encode("Profile", key.territory_id, key.key)
    variables = {"g": family, "u": by_profile}
    removed = ok(await call(auth_client, REMOVE, variables, token))["removeFromSocialGroup"]
    assert removed == {
        "socialGroup": {"id": family},
        "removedUserId": friend["user"]["id"],
        "wasMember": True,
    }
    again = ok(await call(auth_client, REMOVE, variables, token))["removeFromSocialGroup"]
    assert again["wasMember"] is False


async def test_social_group_mutations_need_a_login(auth_client: httpx.AsyncClient) -> None:
    assert codes(await call(auth_client, CREATE, {"n": "Choir"})) == ["UNAUTHENTICATED"]
