"""The API as an Apollo Federation 2 subgraph: keys, `_service`, and `_entities` as `node` answers.

`_entities` must route each representation exactly as `node(id:)` does (same loaders, same
visibility) and batch them: 50 representations across dk (main server) and se (second server)
cost the statements of one per territory, not one per representation.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from graphql import GraphQLObjectType, parse
from sqlalchemy import delete, insert
from strawberry.federation.schema_directives import Key, Shareable

from db.engines import Database
from db.models import communities
from graph import ids
from graph.schema import public_sdl, schema, subgraph_sdl
from graph.types.federation import ENTITY_TYPES
from graph.types.relay import PageInfo
from resolvers.node import RESOLVERS
from tests.authkit import account, call
from tests.conftest import StatementCounter, error_codes, gql
from tests.server.test_front_door import front_door, production_overrides
from unityplan.settings import Settings

ENTITIES = """
query($r: [_Any!]!) {
  _entities(representations: $r) {
    __typename
    ... on Territory { code name }
    ... on Community { id name territory { code } }
    ... on User { id username }
  }
}"""
PREFIX = "fed-"


def keys_of(cls: type) -> list[str]:
    definition = cls.__strawberry_definition__  # type: ignore[attr-defined]
    return [d.fields for d in definition.directives if isinstance(d, Key)]


def test_every_node_type_is_an_entity_keyed_by_id() -> None:
    node_types = {
        name
        for name, t in schema._schema.type_map.items()
        if isinstance(t, GraphQLObjectType) and any(i.name == "Node" for i in t.interfaces)
    }
    assert node_types == set(RESOLVERS)
    assert {t.__name__ for t in ENTITY_TYPES} == node_types
    for cls in ENTITY_TYPES:
        assert "id" in keys_of(cls), cls
    entity = schema._schema.type_map["_Entity"]
    assert {t.name for t in entity.types} == node_types  # type: ignore[attr-defined]
    territory = next(t for t in ENTITY_TYPES if t.__name__ == "Territory")
    assert sorted(keys_of(territory)) == ["code", "id"]
    assert any(isinstance(d, Shareable) for d in PageInfo.__strawberry_definition__.directives)  # type: ignore[attr-defined]


def test_public_sdl_is_the_subgraph_sdl_without_federation() -> None:
    public, subgraph = public_sdl(), subgraph_sdl()
    for federation_only in ("@key", "@shareable", "@link", "_entities", "_service", "_Any"):
        assert federation_only in subgraph
    for federation_only in ("@key", "@shareable", "@link", "_entities", "_service", "_Any"):
        assert federation_only not in public
    names = {d.name.value for d in parse(public).definitions if hasattr(d, "name") and d.name}
    assert names == {
        d.name.value
        for d in parse(subgraph).definitions
        if hasattr(d, "name") and d.name and not d.name.value.startswith("_")
    }


async def test_service_sdl_is_the_published_subgraph_sdl(client: httpx.AsyncClient) -> None:
    body = await gql(client, "{ _service { sdl } }")
    assert body["data"]["_service"]["sdl"] == subgraph_sdl()


async def test_service_sdl_follows_the_introspection_policy(
    settings: Settings, db: Database
) -> None:
    """Production hides the schema from anonymous callers; `_service` must not hand it out."""
    production = {**production_overrides(), "trusted_documents": "allow"}
    async with front_door(settings, db, **production) as anonymous:
        refused = await gql(anonymous, "{ _service { sdl } }")
        assert error_codes(refused) == ["INTROSPECTION_DISABLED"]
    async with front_door(settings, db, **production, introspection="all") as open_door:
        allowed = await gql(open_door, "{ _service { sdl } }")
        assert allowed["data"]["_service"]["sdl"] == subgraph_sdl()


@pytest.fixture
async def fed_communities(db: Database) -> AsyncIterator[dict[str, list[uuid.UUID]]]:
    """25 public communities each in dk (main server) and se (second server)."""
    made: dict[str, list[uuid.UUID]] = {}
    for tid, server in (("dk", "main"), ("se", "second")):
        made[tid] = [uuid.uuid4() for _ in range(25)]
        async with db.transaction(server, tid) as conn:
            await conn.execute(
                insert(communities),
                [
                    {"id": key, "slug": f"{PREFIX}{i:03d}", "name": f"{tid} fed {i}"}
                    for i, key in enumerate(made[tid])
                ],
            )
    yield made
    for tid, server in (("dk", "main"), ("se", "second")):
        async with db.transaction(server, tid) as conn:
            await conn.execute(delete(communities).where(communities.c.slug.like(f"{PREFIX}%")))


def community_reps(made: dict[str, list[uuid.UUID]], per_territory: int) -> list[dict[str, str]]:
    return [
        {"__typename": "Community", "id": ids.encode("Community", tid, str(key))}
        for tid in ("dk", "se")
        for key in made[tid][:per_territory]
    ]


async def test_entities_answer_as_node_does(
    client: httpx.AsyncClient, fed_communities: dict[str, list[uuid.UUID]]
) -> None:
    reps = [{"__typename": "Territory", "code": "se"}, *community_reps(fed_communities, 2)]
    body = await gql(client, ENTITIES, {"r": reps})
    assert "errors" not in body, body
    found = body["data"]["_entities"]
    assert found[0] == {"__typename": "Territory", "code": "se", "name": "Sweden"}
    for rep, entity in zip(reps[1:], found[1:], strict=True):
        node = await gql(
            client,
            "query($id: ID!) { node(id: $id) { __typename ... on Community { id name "
            "territory { code } } } }",
            {"id": rep["id"]},
        )
        assert entity == node["data"]["node"]
    territory_id = ids.encode("Territory", "dk", "dk")
    by_id = await gql(client, ENTITIES, {"r": [{"__typename": "Territory", "id": territory_id}]})
    assert by_id["data"]["_entities"] == [
        {"__typename": "Territory", "code": "dk", "name": "Denmark"}
    ]


async def test_fifty_representations_on_two_servers_cost_one_batch_per_territory(
    client: httpx.AsyncClient,
    statements: StatementCounter,
    fed_communities: dict[str, list[uuid.UUID]],
) -> None:
    counts = []
    for per_territory in (1, 25):
        reps = community_reps(fed_communities, per_territory)
        statements.statements.clear()
        body = await gql(client, ENTITIES, {"r": reps})
        assert "errors" not in body, body
        assert len([e for e in body["data"]["_entities"] if e is not None]) == len(reps)
        counts.append(statements.count)
        servers = {server for server, _ in statements.statements}
    assert counts[0] == counts[1], statements.statements
    # communities by id in dk and in se, each community's territory (one registry read).
    assert counts[1] <= 3, statements.statements
    assert servers == {"main", "second"}


async def test_entities_apply_node_visibility(
    client: httpx.AsyncClient, auth_client: httpx.AsyncClient, db: Database
) -> None:
    """An account is visible to its owner and hidden (null) from others, as through `node`."""
    owner = await account(auth_client, db, "dk")
    reps = [{"__typename": "User", "id": owner["user"]["id"]}]
    mine = await call(auth_client, ENTITIES, {"r": reps}, token=owner["accessToken"])
    assert mine["data"]["_entities"] == [
        {"__typename": "User", "id": owner["user"]["id"], "username": owner["user"]["username"]}
    ]
    anonymous = await call(auth_client, ENTITIES, {"r": reps})
    assert anonymous["data"]["_entities"] == [None]


FORGED: list[Any] = [
    {"__typename": "Nope", "id": "x"},
    {"__typename": "Community", "id": ids.encode("Territory", "dk", "dk")},  # another type's id
    {"__typename": "Community", "id": "!!not-base64!!"},
    {"__typename": "Community"},  # no key
    {"__typename": "Territory", "code": "../etc"},
    {"__typename": "Territory", "code": 7},
    "just a string",
    {"id": ids.encode("Territory", "dk", "dk")},  # no __typename
]


async def test_forged_representations_get_a_coded_error_each(client: httpx.AsyncClient) -> None:
    good = {"__typename": "Territory", "code": "dk"}
    body = await gql(client, ENTITIES, {"r": [good, *FORGED]})
    assert body["data"]["_entities"][0]["code"] == "dk"
    assert body["data"]["_entities"][1:] == [None] * len(FORGED)
    assert error_codes(body) == ["BAD_USER_INPUT"] * len(FORGED), body
    paths = sorted(e["path"][1] for e in body["errors"])
    assert paths == list(range(1, len(FORGED) + 1))
    fields = {e["extensions"].get("field") for e in body["errors"]}
    assert fields == {f"representations.{i}" for i in range(1, len(FORGED) + 1)}
