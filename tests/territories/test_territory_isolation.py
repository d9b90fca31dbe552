"""Territory A's rows are never returned for territory B, however connections are reused."""

from __future__ import annotations

import asyncio
import random
import uuid

import httpx
import pytest
from sqlalchemy import delete, insert, select, text

from db.engines import Database
from db.models import communities
from tests.conftest import ON_SECOND, StatementCounter, error_codes, gql

TERRITORIES = ["dk", "no", "se", "fn_sami", "c_dk_aarhus"]
# Sorts before every other slug, so the first page shows it however many communities other
# tests have created.
SHARED = "0-shared"


def server_of(territory_id: str) -> str:
    return ON_SECOND.get(territory_id, "main")


def marker(territory_id: str) -> str:
    return f"shared garden of {territory_id}"


@pytest.fixture(scope="module", autouse=True)
async def same_slug_everywhere(db: Database) -> None:
    """Every territory holds a row with the same slug, so a mis-routed statement would find one."""
    for tid in TERRITORIES:
        async with db.transaction(server_of(tid), tid) as conn:
            await conn.execute(delete(communities).where(communities.c.slug == SHARED))
            await conn.execute(
                insert(communities).values(id=uuid.uuid4(), slug=SHARED, name=marker(tid))
            )


async def names(db: Database, server: str, territory_id: str) -> set[str]:
    async with db.connect(server, territory_id) as conn:
        result = await conn.execute(select(communities.c.name).where(communities.c.slug == SHARED))
        return set(result.scalars())


async def test_same_pooled_connection_switches_territory(settings: object, db: Database) -> None:
    """One connection in the pool: the same statement for dk, then no, then dk again."""
    single = Database({"main": db.dsn("main")}, pool_size=1)
    try:
        pids = set()
        for tid in ["dk", "no", "dk", "c_dk_aarhus", "no"]:
            async with single.connect("main", tid) as conn:
                pids.add((await conn.execute(text("SELECT pg_backend_pid()"))).scalar())
                rows = await conn.execute(
                    select(communities.c.name).where(communities.c.slug == SHARED)
                )
                assert set(rows.scalars()) == {marker(tid)}
        assert len(pids) == 1, "the test must really reuse one pooled connection"
        async with single.connect("main") as conn:
            path = (await conn.execute(text("SHOW search_path"))).scalar()
        assert path == '"$user", public', "routing must not leave session state behind"
    finally:
        await single.dispose()


async def test_failed_transaction_leaves_nothing_behind(db: Database) -> None:
    single = Database({"main": db.dsn("main")}, pool_size=1)
    doomed = uuid.uuid4()

    async def fail_midway() -> None:
        async with single.transaction("main", "dk") as conn:
            await conn.execute(
                insert(communities).values(id=doomed, slug="doomed", name="half-written")
            )
            raise RuntimeError("the request fails mid-transaction")

    try:
        with pytest.raises(RuntimeError):
            await fail_midway()
        assert await names(single, "main", "no") == {marker("no")}
        async with single.connect("main", "dk") as conn:
            found = await conn.execute(select(communities.c.id).where(communities.c.id == doomed))
            assert found.first() is None
    finally:
        await single.dispose()


async def test_failed_graphql_request_then_other_territory(client: httpx.AsyncClient) -> None:
    bad = await gql(client, '{ dk: communities(territory: "dk", after: "%%%") { nodes { name } } }')
    assert error_codes(bad) == ["BAD_USER_INPUT"]
    good = await gql(client, '{ communities(territory: "no", first: 50) { nodes { name } } }')
    assert marker("no") in {n["name"] for n in good["data"]["communities"]["nodes"]}
    assert marker("dk") not in {n["name"] for n in good["data"]["communities"]["nodes"]}


QUERY = """
query($t: String!) {
  communities(territory: $t, first: 100) { nodes { name territory { code } } }
}
"""


async def test_fifty_concurrent_mixed_requests(client: httpx.AsyncClient) -> None:
    rng = random.Random(7)
    picks = [rng.choice(TERRITORIES) for _ in range(50)]

    async def one(tid: str) -> None:
        body = await gql(client, QUERY, {"t": tid})
        assert "errors" not in body, body
        nodes = body["data"]["communities"]["nodes"]
        shared = {n["name"] for n in nodes if n["name"].startswith("shared garden of ")}
        assert shared == {marker(tid)}
        assert {n["territory"]["code"] for n in nodes} == {tid}

    await asyncio.gather(*(one(t) for t in picks))


async def test_each_server_holds_only_its_territories(
    db: Database, statements: StatementCounter, client: httpx.AsyncClient
) -> None:
    """Reads of se go to the second server, reads of dk to the main one."""
    for tid in ("se", "dk"):
        statements.statements.clear()
        await gql(client, QUERY, {"t": tid})
        community_reads = [s for s, sql in statements.statements if "communities" in sql]
        assert community_reads == [server_of(tid)]
    async with db.connect("second") as conn:
        schemas = set(
            (
                await conn.execute(
                    text("SELECT nspname FROM pg_namespace WHERE nspname LIKE 'territory_%'")
                )
            ).scalars()
        )
    assert {"territory_se", "territory_fn_sami"} <= schemas
    assert "territory_dk" not in schemas
