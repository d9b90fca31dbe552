"""``node``/``nodes``: forged, malformed and wrong-type ids get a clear code, never a 500."""

from __future__ import annotations

import base64
import uuid

import httpx
import pytest

from graph.ids import encode
from tests.conftest import StatementCounter, error_codes, gql

NODE = "query($id: ID!) { node(id: $id) { id __typename ... on Community { name } } }"


def raw(text: bytes) -> str:
    return base64.urlsafe_b64encode(text).decode().rstrip("=")


async def public_community(client: httpx.AsyncClient, territory: str) -> dict[str, str]:
    body = await gql(
        client,
        "query($t: String!) { communities(territory: $t) { nodes { id name } } }",
        {"t": territory},
    )
    node: dict[str, str] = body["data"]["communities"]["nodes"][0]
    return node


async def test_refetch_roundtrip_on_both_servers(client: httpx.AsyncClient) -> None:
    for territory in ("dk", "se"):
        community = await public_community(client, territory)
        body = await gql(client, NODE, {"id": community["id"]})
        assert body["data"]["node"] == {**community, "__typename": "Community"}
    body = await gql(client, NODE, {"id": encode("Territory", "fn_sami", "fn_sami")})
    assert body["data"]["node"]["__typename"] == "Territory"


@pytest.mark.parametrize(
    "node_id",
    [
        "",
        "!!!!",
        "not base64 at all",
        "a" * 500,
        raw(b"\xff\xfe\xfd"),
        raw(b"Community:dk"),
        raw(b"Community:dk:x:y"),
        raw(b"Community::" + str(uuid.uuid4()).encode()),
        raw(b"Unknown:dk:" + str(uuid.uuid4()).encode()),
        raw(b"Community:DK:" + str(uuid.uuid4()).encode()),
        raw(b"Community:dk';--:" + str(uuid.uuid4()).encode()),
        raw(b"Community:../dk:" + str(uuid.uuid4()).encode()),
        raw(b"Community:dk:not-a-uuid"),
        raw(b"Community:dk:" + str(uuid.uuid4()).upper().encode()),
        raw(b"Territory:dk:no"),
        raw(b"Territory:dk:" + str(uuid.uuid4()).encode()),
        base64.b64encode(b"Community:dk:" + str(uuid.uuid4()).encode()).decode() + "===",
    ],
)
async def test_malformed_ids_are_bad_input_before_sql(
    client: httpx.AsyncClient, statements: StatementCounter, node_id: str
) -> None:
    body = await gql(client, NODE, {"id": node_id})
    assert body["data"] == {"node": None}
    assert error_codes(body) == ["BAD_USER_INPUT"]
    assert statements.count == 0


@pytest.mark.parametrize(
    "node_id",
    [
        encode("Community", "dk", str(uuid.uuid4())),  # well-formed, no such row
        encode("Community", "se", str(uuid.uuid4())),  # on the second server
        encode("Community", "fn_nowhere", str(uuid.uuid4())),  # no such territory
        encode("Territory", "is", "is"),  # a real country, not in this federation
    ],
)
async def test_forged_ids_are_not_found(client: httpx.AsyncClient, node_id: str) -> None:
    body = await gql(client, NODE, {"id": node_id})
    assert body["data"] == {"node": None}
    assert error_codes(body) == ["NOT_FOUND"]


async def test_invite_only_community_is_not_found_for_anonymous(
    client: httpx.AsyncClient,
) -> None:
    board = uuid.uuid5(uuid.NAMESPACE_URL, "unityplan:dk:board")  # demo data: invite-only
    body = await gql(client, NODE, {"id": encode("Community", "dk", str(board))})
    assert error_codes(body) == ["NOT_FOUND"]


async def test_id_of_one_territory_cannot_read_another(client: httpx.AsyncClient) -> None:
    """The dk community's key under the no territory finds nothing: routing follows the id."""
    dk = await public_community(client, "dk")
    key = base64.urlsafe_b64decode(dk["id"] + "==").decode().split(":")[2]
    body = await gql(client, NODE, {"id": encode("Community", "no", key)})
    assert error_codes(body) == ["NOT_FOUND"]


async def test_nodes_mixes_found_and_missing(client: httpx.AsyncClient) -> None:
    dk = await public_community(client, "dk")
    se = await public_community(client, "se")
    missing = encode("Community", "dk", str(uuid.uuid4()))
    body = await gql(
        client,
        "query($ids: [ID!]!) { nodes(ids: $ids) { id } }",
        {"ids": [dk["id"], missing, se["id"]]},
    )
    assert body["data"]["nodes"] == [{"id": dk["id"]}, None, {"id": se["id"]}]


async def test_nodes_rejects_malformed_and_too_many(client: httpx.AsyncClient) -> None:
    body = await gql(client, "query($ids: [ID!]!) { nodes(ids: $ids) { id } }", {"ids": ["??"]})
    assert error_codes(body) == ["BAD_USER_INPUT"]
    many = [encode("Community", "dk", str(uuid.uuid4())) for _ in range(101)]
    body = await gql(client, "query($ids: [ID!]!) { nodes(ids: $ids) { id } }", {"ids": many})
    assert error_codes(body) == ["BAD_USER_INPUT"]


@pytest.mark.parametrize("value", [123, None, ["x"], {"a": 1}, True])
async def test_wrong_variable_types(client: httpx.AsyncClient, value: object) -> None:
    response = await client.post("/graphql", json={"query": NODE, "variables": {"id": value}})
    assert response.status_code in (200, 400)
    codes = error_codes(response.json())
    assert codes
    assert set(codes) <= {"BAD_USER_INPUT", "GRAPHQL_VALIDATION_FAILED"}
