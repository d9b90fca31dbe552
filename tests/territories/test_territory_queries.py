"""The territory registry over GraphQL: pages with opaque cursors and validated sizes, one
territory by id, parents, and the descriptions the schema promises."""

from __future__ import annotations

import httpx
import pytest
from graphql import GraphQLEnumType, GraphQLObjectType

from graph.schema import schema
from tests.conftest import error_codes, gql

PAGE = """
query($first: Int, $after: String) {
  territories(first: $first, after: $after) {
    edges { cursor node { code } }
    pageInfo { hasNextPage hasPreviousPage endCursor }
  }
}
"""


async def test_walks_all_territories_in_pages_of_two(client: httpx.AsyncClient) -> None:
    everything = await gql(client, PAGE, {"first": 100})
    expected = [e["node"]["code"] for e in everything["data"]["territories"]["edges"]]
    assert expected == sorted(expected)
    seen: list[str] = []
    after = None
    while True:
        page = (await gql(client, PAGE, {"first": 2, "after": after}))["data"]["territories"]
        seen += [e["node"]["code"] for e in page["edges"]]
        assert page["pageInfo"]["hasPreviousPage"] is (after is not None)
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert seen == expected


async def test_kind_filter(client: httpx.AsyncClient) -> None:
    body = await gql(client, "{ territories(kind: FIRST_NATION) { nodes { code kind } } }")
    assert body["data"]["territories"]["nodes"] == [{"code": "fn_sami", "kind": "FIRST_NATION"}]


@pytest.mark.parametrize(
    ("first", "after"), [(-1, None), (101, None), (2, "not-a-cursor"), (2, "YzpESw")]
)
async def test_bad_page_arguments(client: httpx.AsyncClient, first: int, after: str | None) -> None:
    body = await gql(client, PAGE, {"first": first, "after": after})
    assert error_codes(body) == ["BAD_USER_INPUT"]


@pytest.mark.parametrize(("value", "code"), [("DK", "BAD_USER_INPUT"), ("fn_nowhere", "NOT_FOUND")])
async def test_territory_by_a_bad_id_names_the_argument(
    client: httpx.AsyncClient, value: str, code: str
) -> None:
    body = await gql(client, "query($t: String!) { territory(id: $t) { code } }", {"t": value})
    assert [(e["extensions"]["code"], e["extensions"].get("field")) for e in body["errors"]] == [
        (code, "id")
    ]


async def test_a_malformed_after_names_the_argument(client: httpx.AsyncClient) -> None:
    body = await gql(client, PAGE, {"first": 2, "after": "YzpESw"})  # "c:DK"
    assert [e["extensions"].get("field") for e in body["errors"]] == ["after"]


async def test_a_community_territory_names_its_parent(client: httpx.AsyncClient) -> None:
    body = await gql(
        client, '{ territory(id: "c_dk_aarhus") { kind parent { code kind parent { code } } } }'
    )
    assert body["data"]["territory"] == {
        "kind": "COMMUNITY",
        "parent": {"code": "dk", "kind": "COUNTRY", "parent": None},
    }


@pytest.mark.parametrize("name", ["Territory", "TerritoryKind"])
def test_every_part_of_the_area_is_described(name: str) -> None:
    graphql_type = schema._schema.type_map[name]
    assert graphql_type.description
    if isinstance(graphql_type, GraphQLEnumType):
        parts = {k: v.description for k, v in graphql_type.values.items()}
    else:
        assert isinstance(graphql_type, GraphQLObjectType)
        parts = {k: f.description for k, f in graphql_type.fields.items()}
        for field_name, field in graphql_type.fields.items():
            parts |= {f"{field_name}({a})": arg.description for a, arg in field.args.items()}
    assert [part for part, text in parts.items() if not text] == []


@pytest.mark.parametrize("root", ["territories", "territory", "communities"])
def test_root_queries_and_their_arguments_are_described(root: str) -> None:
    field = schema._schema.query_type.fields[root]  # type: ignore[union-attr]
    assert field.description
    assert [a for a, arg in field.args.items() if not arg.description] == []
