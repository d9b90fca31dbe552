"""The read path: one pooled connection per server per request, no transaction round trips."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from sqlalchemy import event

from db.engines import Database
from tests.conftest import StatementCounter, gql

NESTED = (
    "{ territories(first: 100) { nodes { code parent { code } communities(first: 100) { nodes "
    "{ name territory { code } } } } } }"
)


@pytest.fixture
def checkouts(db: Database) -> Iterator[Counter[str]]:
    """Connections taken from each server's pool while installed."""
    counter: Counter[str] = Counter()
    hooks: list[tuple[Any, Any]] = []
    for server in db.server_keys:

        def hook(*_args: Any, server: str = server) -> None:
            counter[server] += 1

        engine = db.engine(server).sync_engine
        event.listen(engine, "checkout", hook)
        hooks.append((engine, hook))
    try:
        yield counter
    finally:
        for engine, hook in hooks:
            event.remove(engine, "checkout", hook)


async def test_a_small_query_is_one_statement_without_begin_or_rollback(
    client: httpx.AsyncClient, statements: StatementCounter
) -> None:
    body = await gql(client, '{ territory(id: "dk") { code name kind } }')
    assert body["data"]["territory"]["code"] == "dk"
    sent = [sql for _, sql in statements.statements]
    assert len(sent) == 1, sent
    assert sent[0].lstrip().upper().startswith("SELECT")


async def test_one_connection_per_server_per_request(
    client: httpx.AsyncClient, statements: StatementCounter, checkouts: Counter[str]
) -> None:
    """Territories on both servers, each read by several loaders: one checkout per server."""
    body = await gql(client, NESTED)
    codes = {t["code"] for t in body["data"]["territories"]["nodes"]}
    assert {"dk", "se"} <= codes
    assert dict(checkouts) == {"main": 1, "second": 1}
    transaction_control = [
        sql for _, sql in statements.statements if not sql.lstrip().upper().startswith("SELECT")
    ]
    assert transaction_control == []


async def test_connections_go_back_to_the_pool_after_each_request(
    client: httpx.AsyncClient, db: Database
) -> None:
    for _ in range(3):
        await gql(client, NESTED)
    for server in db.server_keys:
        pool: Any = db.engine(server).sync_engine.pool
        assert pool.checkedout() == 0, server
