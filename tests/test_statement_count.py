"""SQL statements per request are bounded by depth x territories, never by rows returned."""

from __future__ import annotations

import uuid

import httpx
import pytest
from sqlalchemy import delete, insert

from db.engines import Database
from db.models import communities
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
            ids = [x["id"] for side in ("dk", "se") for x in body["data"][side]["nodes"]]
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
