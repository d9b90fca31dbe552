"""SQL statements per request are bounded by depth x territories, never by rows returned."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest
from sqlalchemy import delete, insert

from db.engines import Database
from db.models import communities
from tests.authkit import account, call
from tests.conftest import StatementCounter, gql

QUERY = """
query {
  dk: communities(territory: "dk", first: 100) {
    nodes { id name territory { code name parent { code } } }
  }
  se: communities(territory: "se", first: 100) {
    nodes { id name territory { code name parent { code } } }
  }
}
"""


async def fill(db: Database, n: int) -> None:
    for tid, server in (("dk", "main"), ("se", "second")):
        async with db.transaction(server, tid) as conn:
            await conn.execute(delete(communities).where(communities.c.slug.like("bulk-%")))
            await conn.execute(
                insert(communities),
                [
                    {"id": uuid.uuid4(), "slug": f"bulk-{i:03d}", "name": f"{tid} bulk {i}"}
                    for i in range(n)
                ],
            )


async def measure(
    client: httpx.AsyncClient, statements: StatementCounter, query: str
) -> tuple[int, dict[str, object]]:
    statements.statements.clear()
    body = await gql(client, query)
    assert "errors" not in body, body
    return statements.count, body


@pytest.mark.parametrize("query_name", ["lists", "nodes"])
async def test_statements_independent_of_rows(
    db: Database, client: httpx.AsyncClient, statements: StatementCounter, query_name: str
) -> None:
    counts = []
    for n in (3, 40):
        await fill(db, n)
        count, body = await measure(client, statements, QUERY)
        assert sum(1 for x in body["data"]["dk"]["nodes"] if "bulk" in x["name"]) == n
        if query_name == "nodes":
            # The bulk rows only: other tests' communities may push the total past the
            # limit of `nodes` (100 ids).
            ids = [
                x["id"]
                for side in ("dk", "se")
                for x in body["data"][side]["nodes"]
                if "bulk" in x["name"]
            ]
            statements.statements.clear()
            body = await gql(
                client,
                "query($ids: [ID!]!) { nodes(ids: $ids) { id ... on Community { name "
                "territory { code } } } }",
                {"ids": ids},
            )
            assert all(body["data"]["nodes"]), body
            count = statements.count
        counts.append(count)
    depth, territories = 4, 2
    assert counts[0] == counts[1], counts
    assert counts[0] <= depth * territories, statements.statements


async def test_territories_with_nested_communities(
    client: httpx.AsyncClient, statements: StatementCounter
) -> None:
    """One registry page plus one statement per territory schema, whatever each holds."""
    count, body = await measure(
        client,
        statements,
        "{ territories(first: 100) { nodes { code communities(first: 100) { nodes { name "
        "territory { code } } } } } }",
    )
    territories = len(body["data"]["territories"]["nodes"])
    assert territories >= 6
    assert count == 1 + territories


CREATE_COMMUNITY = """
mutation($i: CreateCommunityInput!) { createCommunity(input: $i) { community { id } } }"""
JOIN = "mutation($id: ID!) { joinCommunity(input: {communityId: $id}) { joined } }"


def ok(body: dict[str, Any]) -> dict[str, Any]:
    assert "errors" not in body, body
    data: dict[str, Any] = body["data"]
    return data


async def _community(client: httpx.AsyncClient, manager: dict[str, Any], territory: str) -> str:
    body = {"territory": territory, "slug": f"bulk-{uuid.uuid4().hex[:6]}", "name": "Bulk"}
    created = ok(await call(client, CREATE_COMMUNITY, {"i": body}, manager["accessToken"]))
    community_id: str = created["createCommunity"]["community"]["id"]
    return community_id


async def test_member_lists_cost_statements_independent_of_n(
    auth_client: httpx.AsyncClient, db: Database, statements: StatementCounter
) -> None:
    manager = await account(auth_client, db, "c_dk_aarhus", role="territory_manager")
    created = {"id": await _community(auth_client, manager, "c_dk_aarhus")}
    query = """query($id: ID!) { node(id: $id) { ... on Community { members(first: 50) {
        nodes { role profile { displayName languages { language } socialLinks { url } } } } } } }"""
    counts = []
    joined = 1
    for n in (3, 9):
        while joined < n:
            member = await account(auth_client, db, "c_dk_aarhus")
            ok(await call(auth_client, JOIN, {"id": created["id"]}, member["accessToken"]))
            joined += 1
        statements.statements.clear()
        body = ok(await call(auth_client, query, {"id": created["id"]}, manager["accessToken"]))
        nodes = body["node"]["members"]["nodes"]
        assert len(nodes) == n
        assert all(m["profile"]["displayName"] for m in nodes)
        counts.append(statements.count)
    assert counts[0] == counts[1], counts


async def test_member_pages_under_many_communities_cost_one_statement(
    auth_client: httpx.AsyncClient, db: Database, statements: StatementCounter
) -> None:
    """A page of members under each of N communities: ONE member statement, whatever N."""
    territory = "no"
    manager = await account(auth_client, db, territory, role="territory_manager")
    member = await account(auth_client, db, territory)
    ids_: list[str] = []
    query = """query($ids: [ID!]!) { nodes(ids: $ids) { ... on Community {
        members(first: 2) { nodes { role userId } pageInfo { hasNextPage endCursor } } } } }"""
    counts = []
    for n in (2, 7):
        while len(ids_) < n:
            community = await _community(auth_client, manager, territory)
            ok(await call(auth_client, JOIN, {"id": community}, member["accessToken"]))
            ids_.append(community)
        statements.statements.clear()
        body = ok(await call(auth_client, query, {"ids": ids_}, member["accessToken"]))
        pages = [node["members"] for node in body["nodes"]]
        assert [len(p["nodes"]) for p in pages] == [2] * n
        assert [p["nodes"][0]["role"] for p in pages] == ["ADMIN"] * n
        member_reads = [sql for _, sql in statements.statements if "community_memberships" in sql]
        assert len(member_reads) == 1, member_reads
        counts.append(statements.count)
    assert counts[0] == counts[1], counts


async def test_communities_with_member_pages_and_profiles_cost_three_statements(
    auth_client: httpx.AsyncClient, db: Database, statements: StatementCounter
) -> None:
    """The nested shape of benchmarks/load.py: a page of communities, a page of members under
    each, each member's profile. The registry, the community page, and ONE statement for every
    member page with its profiles: three in all, whatever the number of communities or members."""
    territory = "no"
    manager = await account(auth_client, db, territory, role="territory_manager")
    member = await account(auth_client, db, territory)
    query = """{ communities(territory: "no", first: 100) { nodes { slug members(first: 3) {
        nodes { role profile { displayName bio } } } } } }"""
    counts = []
    for n in (2, 6):
        for _ in range(n):
            community = await _community(auth_client, manager, territory)
            ok(await call(auth_client, JOIN, {"id": community}, member["accessToken"]))
        statements.statements.clear()
        body = ok(await call(auth_client, query, token=member["accessToken"]))
        pages = [c["members"]["nodes"] for c in body["communities"]["nodes"]]
        people = [m for page in pages for m in page]
        assert len(people) >= 2 * n
        assert all(m["profile"]["displayName"] for m in people)
        sent = [sql for _, sql in statements.statements]
        assert len(sent) == 3, sent
        counts.append(len(sent))
    assert counts == [3, 3]
