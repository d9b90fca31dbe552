"""Reading communities: public pages, member lists, `node` of invite-only communities, and the
descriptions and mutation shapes the schema promises."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest
from graphql import GraphQLEnumType, GraphQLInputObjectType, GraphQLNonNull, GraphQLObjectType

from db.engines import Database
from graph.schema import schema
from tests.authkit import account, call, codes

CREATE = """
mutation($i: CreateCommunityInput!) { createCommunity(input: $i) { community { id slug } } }"""
JOIN = "mutation($id: ID!) { joinCommunity(input: {communityId: $id}) { joined } }"
ADD = """mutation($c: ID!, $u: ID!) {
  addCommunityMember(input: {communityId: $c, userId: $u}) { added } }"""
NODE = "query($id: ID!) { node(id: $id) { ... on Community { slug visibility } } }"
MEMBERS = """
query($id: ID!, $first: Int, $after: String) { node(id: $id) { ... on Community {
  members(first: $first, after: $after) {
    nodes { role userId } pageInfo { hasNextPage endCursor }
  }
} } }"""
PAGE = """
query($t: String!, $first: Int, $after: String) {
  communities(territory: $t, first: $first, after: $after) {
    nodes { slug visibility } pageInfo { hasNextPage endCursor }
  }
}"""


def ok(body: dict[str, Any]) -> dict[str, Any]:
    assert "errors" not in body, body
    data: dict[str, Any] = body["data"]
    return data


@pytest.fixture(scope="module")
async def dk(auth_client: httpx.AsyncClient, db: Database) -> dict[str, Any]:
    """A manager of dk, two accounts of dk and one of no."""
    return {
        "manager": await account(auth_client, db, "dk", role="territory_manager"),
        "alice": await account(auth_client, db, "dk"),
        "bob": await account(auth_client, db, "dk"),
        "outsider": await account(auth_client, db, "no"),
    }


async def create(
    client: httpx.AsyncClient, manager: dict[str, Any], visibility: str = "PUBLIC"
) -> dict[str, Any]:
    body = {
        "territory": "dk",
        "slug": f"read-{uuid.uuid4().hex[:8]}",
        "name": "Readers",
        "visibility": visibility,
    }
    created = ok(await call(client, CREATE, {"i": body}, manager["accessToken"]))
    community: dict[str, Any] = created["createCommunity"]["community"]
    return community


async def test_public_pages_walk_every_public_community_by_slug(
    auth_client: httpx.AsyncClient, dk: dict[str, Any]
) -> None:
    closed = await create(auth_client, dk["manager"], "INVITE_ONLY")
    await create(auth_client, dk["manager"])
    everything = ok(await call(auth_client, PAGE, {"t": "dk", "first": 100}))["communities"]
    assert not everything["pageInfo"]["hasNextPage"]
    expected = [n["slug"] for n in everything["nodes"]]
    assert expected == sorted(expected)
    assert closed["slug"] not in expected
    assert {n["visibility"] for n in everything["nodes"]} == {"PUBLIC"}
    seen: list[str] = []
    after = None
    while True:
        page = ok(await call(auth_client, PAGE, {"t": "dk", "first": 2, "after": after}))
        seen += [n["slug"] for n in page["communities"]["nodes"]]
        if not page["communities"]["pageInfo"]["hasNextPage"]:
            break
        after = page["communities"]["pageInfo"]["endCursor"]
    assert seen == expected


@pytest.mark.parametrize(
    ("territory", "code"), [("DK", "BAD_USER_INPUT"), ("fn_nowhere", "NOT_FOUND")]
)
async def test_communities_of_a_bad_territory_name_the_argument(
    auth_client: httpx.AsyncClient, territory: str, code: str
) -> None:
    body = await call(auth_client, PAGE, {"t": territory})
    assert [(e["extensions"]["code"], e["extensions"].get("field")) for e in body["errors"]] == [
        (code, "territory")
    ]


async def test_member_pages_walk_every_member_in_join_order(
    auth_client: httpx.AsyncClient, dk: dict[str, Any]
) -> None:
    community = await create(auth_client, dk["manager"])
    for who in ("alice", "bob"):
        ok(await call(auth_client, JOIN, {"id": community["id"]}, dk[who]["accessToken"]))
    expected = [dk[w]["user"]["id"] for w in ("manager", "alice", "bob")]
    token = dk["alice"]["accessToken"]
    seen: list[str] = []
    after = None
    while True:
        variables = {"id": community["id"], "first": 1, "after": after}
        members = ok(await call(auth_client, MEMBERS, variables, token))["node"]["members"]
        seen += [m["userId"] for m in members["nodes"]]
        if not members["pageInfo"]["hasNextPage"]:
            break
        after = members["pageInfo"]["endCursor"]
    assert seen == expected


async def test_member_lists_are_for_accounts_of_the_territory(
    auth_client: httpx.AsyncClient, dk: dict[str, Any]
) -> None:
    community = await create(auth_client, dk["manager"])
    for token in (dk["outsider"]["accessToken"], None):
        seen = ok(await call(auth_client, MEMBERS, {"id": community["id"]}, token))
        assert seen["node"] == {"members": None}


async def test_a_malformed_member_cursor_is_bad_user_input(
    auth_client: httpx.AsyncClient, dk: dict[str, Any]
) -> None:
    community = await create(auth_client, dk["manager"])
    variables = {"id": community["id"], "after": "Yzpub3QtYS1jdXJzb3I"}  # "c:not-a-cursor"
    body = await call(auth_client, MEMBERS, variables, dk["alice"]["accessToken"])
    assert codes(body) == ["BAD_USER_INPUT"]


async def test_node_shows_an_invite_only_community_to_members_and_managers(
    auth_client: httpx.AsyncClient, dk: dict[str, Any]
) -> None:
    """A member got NOT_FOUND from `node` for a community listed in their `me.communities`."""
    closed = await create(auth_client, dk["manager"], "INVITE_ONLY")
    seen = {"slug": closed["slug"], "visibility": "INVITE_ONLY"}
    assert (
        ok(await call(auth_client, NODE, {"id": closed["id"]}, dk["manager"]["accessToken"]))[
            "node"
        ]
        == seen
    )
    for token in (dk["bob"]["accessToken"], dk["outsider"]["accessToken"], None):
        assert codes(await call(auth_client, NODE, {"id": closed["id"]}, token)) == ["NOT_FOUND"]
    added = {"c": closed["id"], "u": dk["bob"]["user"]["id"]}
    ok(await call(auth_client, ADD, added, dk["manager"]["accessToken"]))
    bob = dk["bob"]["accessToken"]
    assert ok(await call(auth_client, NODE, {"id": closed["id"]}, bob))["node"] == seen


# --- what the schema promises for this area


MUTATIONS = [
    "createCommunity",
    "joinCommunity",
    "leaveCommunity",
    "addCommunityMember",
    "removeCommunityMember",
    "setCommunityMemberRole",
]
TYPES = [
    "Community",
    "CommunityMember",
    "CommunityMembership",
    "CommunityRole",
    "CommunityVisibility",
    *(f"{m[0].upper()}{m[1:]}{suffix}" for m in MUTATIONS for suffix in ("Input", "Payload")),
]


@pytest.mark.parametrize("name", MUTATIONS)
def test_mutations_take_one_input_and_return_a_payload(name: str) -> None:
    field = schema._schema.mutation_type.fields[name]  # type: ignore[union-attr]
    title = name[0].upper() + name[1:]
    assert list(field.args) == ["input"]
    assert str(field.args["input"].type) == f"{title}Input!"
    assert str(field.type) == f"{title}Payload!"
    assert isinstance(field.type, GraphQLNonNull)
    for refusal in ("NOT_FOUND", "BAD_USER_INPUT"):
        assert refusal in (field.description or ""), name


@pytest.mark.parametrize("name", TYPES)
def test_every_part_of_the_area_is_described(name: str) -> None:
    graphql_type = schema._schema.type_map[name]
    assert graphql_type.description, name
    if isinstance(graphql_type, GraphQLEnumType):
        parts = {f"{name}.{k}": v.description for k, v in graphql_type.values.items()}
    else:
        assert isinstance(graphql_type, GraphQLObjectType | GraphQLInputObjectType)
        parts = {f"{name}.{k}": f.description for k, f in graphql_type.fields.items()}
        for field_name, field in graphql_type.fields.items():
            for arg_name, arg in getattr(field, "args", {}).items():
                parts[f"{name}.{field_name}({arg_name})"] = arg.description
    assert [part for part, text in parts.items() if not text] == []
