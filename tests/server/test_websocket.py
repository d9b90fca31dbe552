"""GraphQL over WebSocket: graphql-transport-ws only, init timeout, per-connection limits, codes.

The operations here are queries sent in `subscribe` messages (the protocol allows single-result
operations); live subscriptions are tested in tests/events/test_subscriptions.py. Each app here
has its own loop, engines and Redis client (Starlette's TestClient runs it in a thread).
"""

from __future__ import annotations

import asyncio
import logging
import os
import uuid
import warnings
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import asyncpg
import pytest
from starlette.routing import WebSocketRoute

from db.engines import Database
from graph.server.app import create_app
from tests.conftest import MAIN_DSN, age_rate_buckets, delete_redis_keys
from unityplan.settings import Settings

with warnings.catch_warnings():
    # Starlette 1.x prefers httpx2 for its TestClient; httpx still drives its WebSocket session.
    warnings.filterwarnings("ignore", "Using `httpx`", UserWarning)
    from starlette.testclient import TestClient
    from starlette.websockets import WebSocketDisconnect

pytestmark = pytest.mark.filterwarnings("ignore:Using `httpx`:UserWarning")

PROTOCOL = "graphql-transport-ws"
PREFIX = f"unityplan-test-ws-{os.getpid()}:"


@pytest.fixture(autouse=True)
async def clean_redis(settings: Settings) -> AsyncIterator[None]:
    yield
    await delete_redis_keys(settings.redis_url, PREFIX)


def app_with(settings: Settings, **overrides: Any) -> Any:
    return create_app(settings.model_copy(update={"redis_key_prefix": PREFIX, **overrides}))


@contextmanager
def connected(app: Any) -> Iterator[Any]:
    """An acknowledged graphql-transport-ws connection."""
    with TestClient(app) as client, client.websocket_connect("/graphql", [PROTOCOL]) as ws:
        ws.send_json({"type": "connection_init", "payload": {}})
        assert ws.receive_json() == {"type": "connection_ack"}
        yield ws


def subscribe(ws: Any, op_id: str, query: str, **payload: Any) -> None:
    ws.send_json({"id": op_id, "type": "subscribe", "payload": {"query": query, **payload}})


def until_done(ws: Any, op_id: str) -> list[dict[str, Any]]:
    """Messages of ``op_id`` up to its `complete` or `error`."""
    messages = []
    while True:
        message = ws.receive_json()
        assert message.get("id") == op_id, message
        messages.append(message)
        if message["type"] in ("complete", "error"):
            return messages


def still_open(ws: Any) -> None:
    ws.send_json({"type": "ping"})
    assert ws.receive_json() == {"type": "pong"}


def codes(message: dict[str, Any]) -> list[str]:
    errors = message["payload"] if message["type"] == "error" else message["payload"]["errors"]
    return [e["extensions"]["code"] for e in errors]


def test_only_graphql_transport_ws_is_spoken(settings: Settings) -> None:
    app = app_with(settings)
    for offered in (["graphql-ws"], []):
        with TestClient(app) as client, client.websocket_connect("/graphql", offered) as ws:
            ws.send_json({"type": "connection_init", "payload": {}})
            with pytest.raises(WebSocketDisconnect) as closed:
                ws.receive_json()
        assert closed.value.code == 4406, offered


def test_connection_init_must_come_in_time(settings: Settings) -> None:
    app = app_with(settings, ws_connection_init_timeout_seconds=0.2)
    # The setting reaches the handler (the default is 10 s) ...
    [view] = [r.endpoint for r in app.routes if isinstance(r, WebSocketRoute)]
    assert view.connection_init_wait_timeout == timedelta(seconds=0.2)
    # ... and a connection that never sends connection_init is closed with 4408.
    with (
        TestClient(app) as client,
        client.websocket_connect("/graphql", [PROTOCOL]) as ws,
        pytest.raises(WebSocketDisconnect) as closed,
    ):
        ws.receive_json()
    assert closed.value.code == 4408


def test_every_error_over_websocket_has_a_code(settings: Settings) -> None:
    """Strawberry's streaming path skips ErrorCodes' on_operation; on_stream_result codes them."""
    app = app_with(settings, max_query_depth=2)
    with connected(app) as ws:
        cases = [
            ("{ me { username } }", {}, "next", ["UNAUTHENTICATED"]),
            ("{ nope }", {}, "error", ["GRAPHQL_VALIDATION_FAILED"]),
            ("{", {}, "error", ["GRAPHQL_PARSE_FAILED"]),
            (
                "query A { __typename }",
                {"operationName": "B"},
                "error",
                ["OPERATION_RESOLUTION_FAILURE"],
            ),
            (
                "{ territories { nodes { communities { nodes { id } } } } }",
                {},
                "error",
                ["QUERY_TOO_DEEP"],
            ),
            ('{ node(id: "not-an-id") { id } }', {}, "next", ["BAD_USER_INPUT"]),
        ]
        for n, (query, extra, kind, expected) in enumerate(cases):
            subscribe(ws, str(n), query, **extra)
            first = until_done(ws, str(n))[0]
            assert first["type"] == kind, (query, first)
            assert codes(first) == expected, (query, first)
        still_open(ws)  # a bad document ends its operation, not the connection


def test_operations_per_connection_are_bounded(settings: Settings) -> None:
    app = app_with(settings, ws_max_operations_per_connection=2)
    with connected(app) as ws:
        for op_id in ("1", "2"):
            subscribe(ws, op_id, "{ __typename }")
            assert until_done(ws, op_id)[0]["payload"] == {"data": {"__typename": "Query"}}
        subscribe(ws, "3", "{ __typename }")
        [refused] = until_done(ws, "3")
        assert refused["type"] == "error"
        assert codes(refused) == ["CONNECTION_OPERATION_LIMIT"]
        still_open(ws)


async def test_concurrent_operations_are_bounded(settings: Settings, db: Database) -> None:
    app = app_with(settings, ws_max_concurrent_operations=1)
    # Hold the territory registry locked so the first operation stays in flight.
    locker = await asyncpg.connect(MAIN_DSN)
    try:
        transaction = locker.transaction()
        await transaction.start()
        await locker.execute("LOCK TABLE global.territories IN ACCESS EXCLUSIVE MODE")
        with connected(app) as ws:
            subscribe(ws, "slow", "{ territories(first: 1) { nodes { id } } }")
            subscribe(ws, "fast", "{ __typename }")
            [refused] = until_done(ws, "fast")
            assert codes(refused) == ["TOO_MANY_OPERATIONS"]
            await transaction.rollback()
            slow = until_done(ws, "slow")
            assert slow[0]["payload"]["data"]["territories"]["nodes"]
            subscribe(ws, "fast2", "{ __typename }")
            assert until_done(ws, "fast2")[0]["type"] == "next"
    finally:
        await locker.close()


async def test_rate_limit_over_websocket_refuses_the_operation_not_the_connection(
    settings: Settings,
) -> None:
    app = app_with(
        settings,
        rate_limit=True,
        rate_limit_anonymous_burst=2,
        rate_limit_anonymous_per_second=1.0,
    )
    with connected(app) as ws:
        for op_id in ("1", "2"):
            subscribe(ws, op_id, "{ __typename }")
            assert until_done(ws, op_id)[0]["type"] == "next"
        subscribe(ws, "3", "{ __typename }")
        [refused] = until_done(ws, "3")
        assert refused["type"] == "error"
        assert codes(refused) == ["RATE_LIMITED"]
        wait = refused["payload"][0]["extensions"]["retryAfter"]
        assert isinstance(wait, int)
        assert wait >= 1
        still_open(ws)
        # Time passes for the bucket (one address: one bucket) instead of sleeping through it.
        assert await age_rate_buckets(settings.redis_url, PREFIX, wait) == 1
        subscribe(ws, "4", "{ __typename }")
        assert until_done(ws, "4")[0]["type"] == "next"


def test_trusted_documents_apply_over_websocket(settings: Settings) -> None:
    app = app_with(settings, trusted_documents="anonymous-registered-only")
    with connected(app) as ws:
        subscribe(ws, "1", "{ __typename }")
        [refused] = until_done(ws, "1")
        assert codes(refused) == ["TRUSTED_DOCUMENT_REQUIRED"]
        ws.send_json(
            {"id": "2", "type": "subscribe", "payload": {"documentId": f"sha256:{'0' * 64}"}}
        )
        assert codes(until_done(ws, "2")[0]) == ["PERSISTED_QUERY_NOT_FOUND"]
        still_open(ws)


@pytest.mark.parametrize(
    "message",
    [
        "[]",
        "null",
        "5",
        '"connection_init"',
        '{"type": "subscribe", "id": ["1"], "payload": {"query": "{ __typename }"}}',
        '{"type": "subscribe", "id": {"a": 1}, "payload": {"query": "{ __typename }"}}',
        '{"type": "subscribe", "id": 5, "payload": {"query": "{ __typename }"}}',
        '{"type": "complete", "id": ["1"]}',
        '{"type": "subscribe", "id": "1", "payload": {"query": "{ a }", "variables": []}}',
        '{"type": "subscribe", "id": "1", "payload": {"query": "{ a }", "variables": "x"}}',
        '{"type": "subscribe", "id": "1", "payload": {"query": "{ __typename }",'
        ' "operationName": 5}}',
        '{"type": "subscribe", "id": "1", "payload": {"query": "{ __typename }",'
        ' "extensions": []}}',
    ],
)
def test_malformed_messages_close_with_4400_never_crash(
    settings: Settings, message: str, caplog: pytest.LogCaptureFixture
) -> None:
    """Any JSON that is not a well-typed message closes with 4400, as the protocol asks: no
    exception escapes the handler (a traceback, a 1011 close) and no masked internal error."""
    app = app_with(settings)
    with connected(app) as ws:
        ws.send_text(message)
        with pytest.raises(WebSocketDisconnect) as closed:
            ws.receive_json()
    assert closed.value.code == 4400, closed.value
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR], caplog.text


async def _execute(sql: str, *args: object) -> None:
    conn = await asyncpg.connect(MAIN_DSN)
    try:
        await conn.execute(sql, *args)
    finally:
        await conn.close()


def test_each_operation_on_a_connection_reads_afresh(settings: Settings, db: Database) -> None:
    """A connection lives for hours: its second operation must see what changed after its first
    (one loader cache per connection served the first answer again)."""
    slug = f"0-ws-{uuid.uuid4().hex[:8]}"  # sorts onto the first page
    asyncio.run(
        _execute(
            "INSERT INTO territory_dk.communities (id, slug, name) VALUES ($1, $2, 'before')",
            uuid.uuid4(),
            slug,
        )
    )
    query = '{ communities(territory: "dk", first: 100) { nodes { slug name } } }'

    def name_now(ws: Any, op_id: str) -> str:
        subscribe(ws, op_id, query)
        result = until_done(ws, op_id)[0]["payload"]["data"]["communities"]["nodes"]
        return next(n["name"] for n in result if n["slug"] == slug)

    with connected(app_with(settings)) as ws:
        first = name_now(ws, "1")
        asyncio.run(
            _execute("UPDATE territory_dk.communities SET name = 'after' WHERE slug = $1", slug)
        )
        second = name_now(ws, "2")
    assert (first, second) == ("before", "after")
