"""Outages answer SERVICE_UNAVAILABLE, whatever the driver calls them, and cost no more than that.

Redis here is a private redis-server of this module (stopped and restarted at will); PostgreSQL
connections are killed with ``pg_terminate_backend``, only the ones this module's app holds.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import asyncpg
import asyncpg.exceptions as pg
import httpx
import pytest
import redis.exceptions as redis_errors
from graphql import GraphQLError
from redis.asyncio.connection import AbstractConnection
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from db.engines import Database
from graph.errors import UNAVAILABLE, code_result, is_unavailable
from graph.server.app import create_app
from tests.authkit import LOGIN, LOGOUT, ME, REVOKE_ROLE, account, call, codes
from tests.conftest import MAIN_DSN, delete_redis_keys
from unityplan.devservices import PrivateRedis
from unityplan.settings import Settings

PREFIX = f"unityplan-outage-{os.getpid()}:"


@pytest.fixture(scope="module")
def private_redis() -> Iterator[PrivateRedis]:
    server = PrivateRedis(Path(f"/var/tmp/unityplan-test-redis-{os.getpid()}"))
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
async def outage_db(settings: Settings, db: Database) -> AsyncIterator[Database]:
    """Pools of this module's own, so killing their connections disturbs no other test."""
    database = Database(settings.servers(), pool_size=4)
    try:
        yield database
    finally:
        await database.dispose()


@pytest.fixture(scope="module")
async def outage_client(
    settings: Settings, outage_db: Database, private_redis: PrivateRedis
) -> AsyncIterator[httpx.AsyncClient]:
    app_settings = settings.model_copy(
        update={"redis_url": private_redis.url, "redis_key_prefix": PREFIX}
    )
    app = create_app(app_settings, outage_db)
    transport = httpx.ASGITransport(app=app)
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
            yield c
    finally:
        await app.state.redis.aclose()
        await delete_redis_keys(private_redis.url, PREFIX)


@pytest.fixture
def redis_back(private_redis: PrivateRedis) -> Iterator[PrivateRedis]:
    """The private Redis, started again after the test whatever it did to it."""
    try:
        yield private_redis
    finally:
        if private_redis._process is None:
            private_redis.start()


def _login(identifier: str) -> dict[str, Any]:
    login = {"identifier": identifier, "password": "x" * 12}
    return {"query": LOGIN, "variables": {"input": login}}


async def test_login_while_redis_is_down_is_service_unavailable(
    outage_client: httpx.AsyncClient, redis_back: PrivateRedis
) -> None:
    redis_back.stop()
    response = await outage_client.post("/graphql", json=_login("nobody-here"))
    assert response.status_code == 503, response.text
    assert codes(response.json()) == [UNAVAILABLE]
    assert response.headers["retry-after"] == "1"


async def test_a_redis_restart_fails_no_request(
    outage_client: httpx.AsyncClient, outage_db: Database, redis_back: PrivateRedis
) -> None:
    token = (await account(outage_client, outage_db, "dk"))["accessToken"]
    # Fill the pool with connections, then restart the server under them.
    warm = await asyncio.gather(*(call(outage_client, ME, token=token) for _ in range(30)))
    assert all("errors" not in body for body in warm), warm[0]
    redis_back.stop()
    redis_back.start()
    after = await asyncio.gather(*(call(outage_client, ME, token=token) for _ in range(30)))
    failed = [body for body in after if "errors" in body]
    assert not failed, f"{len(failed)} of 30 failed: {failed[0]}"


async def _own_backends(database: Database, count: int) -> list[int]:
    """Backend pids of ``count`` connections the pool of ``database`` now holds (checked in)."""
    ready = asyncio.Event()
    pids: list[int] = []

    async def hold() -> None:
        async with database.connect("main") as conn:
            pids.append(int((await conn.execute(text("select pg_backend_pid()"))).scalar_one()))
            if len(pids) == count:
                ready.set()
            await ready.wait()

    await asyncio.gather(*(hold() for _ in range(count)))
    return pids


async def test_killed_database_connections_answer_service_unavailable_or_succeed(
    outage_client: httpx.AsyncClient, outage_db: Database, redis_back: PrivateRedis
) -> None:
    """Every pooled connection is killed; what follows either works (reads retry once) or says
    SERVICE_UNAVAILABLE: a write on a dead connection is an outage, never INTERNAL_SERVER_ERROR."""
    seen: set[str] = set()
    for _ in range(3):
        pids = await _own_backends(outage_db, 4)
        admin = await asyncpg.connect(MAIN_DSN)
        try:
            await admin.execute("select pg_terminate_backend(p) from unnest($1::int[]) p", pids)
        finally:
            await admin.close()
        # Failed logins write audit rows: a write transaction on a dead pooled connection.
        responses = await asyncio.gather(
            *(outage_client.post("/graphql", json=_login(f"ghost{i}")) for i in range(4))
        )
        for response in responses:
            body = response.json()
            seen.update(codes(body))
            # The transport rules: an outage is 503, a refused login a 200 with its code.
            assert response.status_code == (503 if UNAVAILABLE in codes(body) else 200), body
    assert seen <= {"INVALID_CREDENTIALS", UNAVAILABLE}, seen
    assert UNAVAILABLE in seen  # the kill did reach requests: the test tested something


def _wrapped(driver_error: BaseException) -> DBAPIError:
    """How SQLAlchemy hands an asyncpg error to us: a DBAPIError around an adapter error."""
    adapted = Exception(str(driver_error))
    adapted.__cause__ = driver_error
    return DBAPIError("select 1", None, adapted)


def _while_handling(error: BaseException, cause: BaseException) -> BaseException:
    try:
        try:
            raise cause
        except BaseException:
            raise error  # noqa: B904 - the implicit __context__ is what drivers leave
    except BaseException as raised:
        return raised


@pytest.mark.parametrize(
    "error",
    [
        redis_errors.ConnectionError("Error 111 connecting to 127.0.0.1:6379."),
        redis_errors.TimeoutError("Timeout reading from socket"),
        redis_errors.ReadOnlyError("You can't write against a read only replica."),
        _wrapped(pg.CannotConnectNowError("the database system is shutting down")),
        _wrapped(pg.AdminShutdownError("terminating connection due to administrator command")),
        _wrapped(pg.ConnectionDoesNotExistError("connection was closed in the middle")),
        _wrapped(pg.TooManyConnectionsError("sorry, too many clients already")),
        _while_handling(
            pg.InternalClientError("cannot switch to state 15; another operation is running"),
            _wrapped(pg.AdminShutdownError("terminating connection")),
        ),
    ],
    ids=lambda e: type(e).__name__,
)
def test_every_driver_outage_is_unavailable(error: BaseException) -> None:
    assert is_unavailable(error)


@pytest.mark.parametrize(
    "error",
    [
        RuntimeError("a bug"),
        _wrapped(pg.UniqueViolationError("duplicate key")),
        _wrapped(pg.UndefinedColumnError("column x does not exist")),
        redis_errors.ResponseError("WRONGTYPE Operation against a key"),
    ],
    ids=lambda e: type(e).__name__,
)
def test_bugs_are_not_outages(error: BaseException) -> None:
    assert not is_unavailable(error)


def test_one_log_record_per_unexpected_error_carries_the_id_the_client_saw(
    caplog: pytest.LogCaptureFixture,
) -> None:
    failures = [
        GraphQLError("boom", path=["a"], original_error=RuntimeError("boom")),
        GraphQLError("bang", path=["b"], original_error=ValueError("bang")),
    ]
    with caplog.at_level(logging.DEBUG):
        errors, unavailable = code_result(failures, suggestions=False, debug=False)
    assert not unavailable
    ids = [e.extensions["errorId"] for e in errors]  # type: ignore[index]
    records = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(records) == 1
    assert ids[0] in records[0].getMessage()
    assert records[0].error_ids == ids  # type: ignore[attr-defined]


async def test_an_unexpected_error_is_logged_once_under_the_id_the_client_got(
    client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(_cursor: str | None) -> str | None:
        raise RuntimeError("a bug in a resolver")

    monkeypatch.setattr("resolvers.territories.decode_cursor", broken)
    with caplog.at_level(logging.DEBUG):
        body = await call(client, "{ territories { edges { cursor } } }")
    assert codes(body) == ["INTERNAL_SERVER_ERROR"]
    error_id = body["errors"][0]["extensions"]["errorId"]
    records = [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info]
    assert len(records) == 1, [r.getMessage() for r in records]
    assert error_id in records[0].getMessage()


async def test_a_logout_survives_a_redis_restart(
    outage_client: httpx.AsyncClient, outage_db: Database, redis_back: PrivateRedis
) -> None:
    """Redis restarted empty (no persistence) forgot the logout; the token worked again."""
    me = await account(outage_client, outage_db, "dk")
    token = me["accessToken"]
    assert "errors" not in await call(outage_client, ME, token=token)
    assert "errors" not in await call(outage_client, LOGOUT, {"all": False}, token)
    assert codes(await call(outage_client, ME, token=token)) == ["UNAUTHENTICATED"]
    redis_back.stop()
    assert codes(await call(outage_client, ME, token=token)) == ["UNAUTHENTICATED"]  # Redis down
    redis_back.start()  # back, and empty
    assert codes(await call(outage_client, ME, token=token)) == ["UNAUTHENTICATED"]


async def test_a_role_revocation_survives_a_redis_flush(
    outage_client: httpx.AsyncClient, outage_db: Database, private_redis: PrivateRedis
) -> None:
    admin = await account(outage_client, outage_db, "global", role="global_admin")
    manager = await account(outage_client, outage_db, "dk", role="territory_manager")
    grant = {"userId": manager["user"]["id"], "role": "TERRITORY_MANAGER", "territory": "dk"}
    listing = 'query { invitations(territory: "dk") { id } }'
    assert "errors" not in await call(outage_client, listing, token=manager["accessToken"])
    revoked = await call(outage_client, REVOKE_ROLE, {"i": grant}, admin["accessToken"])
    assert revoked["data"]["revokeRole"]["revoked"] is True, revoked
    await delete_redis_keys(private_redis.url, PREFIX)  # every key of this app: a flush
    body = await call(outage_client, listing, token=manager["accessToken"])
    assert codes(body) == ["UNAUTHENTICATED"], body


class RoundTrips:
    """Counts what redis-py writes to the server: one write per round trip (a pipeline or a
    script is one; the health-check PING another)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.sent: list[bytes] = []
        original = AbstractConnection.send_packed_command

        async def counted(
            conn: AbstractConnection, command: Any, check_health: bool = True
        ) -> None:
            if isinstance(command, str):
                self.sent.append(command.encode())
            elif isinstance(command, bytes):
                self.sent.append(command)
            else:
                self.sent.append(
                    b"".join(c.encode() if isinstance(c, str) else bytes(c) for c in command)
                )
            await original(conn, command, check_health)

        monkeypatch.setattr(AbstractConnection, "send_packed_command", counted)


async def test_an_authenticated_request_makes_one_redis_round_trip(
    settings: Settings,
    outage_db: Database,
    private_redis: PrivateRedis,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The session check and the rate-limit token: ONE script call (issue 10, item 6)."""
    app_settings = settings.model_copy(
        update={
            "redis_url": private_redis.url,
            "redis_key_prefix": PREFIX + "trips:",
            "rate_limit": True,
            "rate_limit_authenticated_burst": 1000,
            "redis_health_check_seconds": 3600,  # no PING in between: this test counts
        }
    )
    app = create_app(app_settings, outage_db)
    try:
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://testserver"
        ) as c:
            token = (await account(c, outage_db, "dk"))["accessToken"]
            assert "errors" not in await call(c, ME, token=token)  # loads the script
            trips = RoundTrips(monkeypatch)
            for _ in range(5):
                assert "errors" not in await call(c, ME, token=token)
    finally:
        await app.state.redis.aclose()
    assert len(trips.sent) == 5, trips.sent
    assert all(b"EVALSHA" in sent for sent in trips.sent)
