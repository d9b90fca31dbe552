"""Fixtures of the events tests: a NATS server (2.15, JetStream) each test starts, stops and
restarts itself, a real GraphQL execution context, and helpers that read the stream back."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import nats
import orjson
import pytest
import strawberry
from nats.js.errors import NotFoundError
from starlette.requests import Request
from starlette.responses import Response

from db.engines import Database
from domain.errors import BadUserInput
from domain.events import CommunityCreated, Envelope, RoleGranted, TerritoryRef
from domain.roles import Role
from events.connection import NatsLink
from events.relay import Relay, RelayOptions
from events.streams import StreamSpec
from graph.context import Context, Info
from graph.loaders.request import ReleaseReads
from graph.server.app import GraphQLApp
from resolvers.common import emit_global, territory_change
from tests.authkit import account
from unityplan.devservices import free_port
from unityplan.settings import MAIN_SERVER

NATS_BINARY = Path(sys.executable).parent / "nats-server"
REPO = Path(__file__).resolve().parent.parent.parent


@dataclass
class NatsServer:
    """A nats-server of the test's own, on fixed ports and store so it can be restarted."""

    directory: Path
    port: int = field(default_factory=free_port)
    monitor: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"nats://127.0.0.1:{self.port}"

    def start(self) -> None:
        argv = [str(NATS_BINARY), "-a", "127.0.0.1", "-p", str(self.port)]
        argv += ["-m", str(self.monitor), "-js", "-sd", str(self.directory / "js")]
        argv += ["-l", str(self.directory / "nats.log")]
        self.process = subprocess.Popen(
            argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        health = f"http://127.0.0.1:{self.monitor}/healthz?js-enabled-only=true"
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(health, timeout=1) as response:
                    if response.status == 200:
                        return
            except (urllib.error.URLError, OSError):
                pass
            time.sleep(0.05)
        raise RuntimeError(f"nats-server did not become ready: {self.directory / 'nats.log'}")

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=15)
            self.process = None


@pytest.fixture
def nats_server() -> Iterator[NatsServer]:
    with tempfile.TemporaryDirectory(prefix="unityplan-nats-") as directory:
        server = NatsServer(Path(directory))
        server.start()
        try:
            yield server
        finally:
            server.stop()


# --- reading the stream back


async def stream_ids(url: str, stream: str = StreamSpec().name) -> list[uuid.UUID]:
    """The event id of every message stored in the stream, in stream order (duplicates kept)."""
    nc = await nats.connect(url)
    try:
        js = nc.jetstream()
        found: list[uuid.UUID] = []
        try:
            info = await js.stream_info(stream)
        except NotFoundError:  # no relay has created it yet
            return found
        if info.state.messages == 0:
            return found
        for seq in range(info.state.first_seq, info.state.last_seq + 1):
            msg = await js.get_msg(stream, seq)
            assert msg.data is not None
            envelope = Envelope.from_json(orjson.loads(msg.data))
            assert msg.headers is not None
            assert msg.headers["Nats-Msg-Id"] == str(envelope.id)
            found.append(envelope.id)
        return found
    finally:
        await nc.close()


async def wait_for(predicate: Any, timeout: float = 20.0, interval: float = 0.05) -> None:
    """Poll an async predicate until it holds (fails the test after ``timeout`` seconds)."""
    deadline = time.monotonic() + timeout
    while True:
        if await predicate():
            return
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        await asyncio.sleep(interval)


async def wait_for_ids(
    url: str, expected: set[uuid.UUID], timeout: float = 30.0
) -> list[uuid.UUID]:
    """Wait until every expected id is on the stream; returns those ids as found (with repeats)."""
    seen: list[uuid.UUID] = []

    async def all_there() -> bool:
        nonlocal seen
        seen = [i for i in await stream_ids(url) if i in expected]
        return set(seen) == expected

    await wait_for(all_there, timeout)
    return seen


# --- relays in this process


@dataclass
class RunningRelay:
    relay: Relay
    link: NatsLink
    db: Database

    async def stop(self) -> None:
        await self.relay.stop()
        await self.link.close()
        await self.db.dispose()


async def start_relay(
    db: Database, url: str, *, background: bool = True, **options: Any
) -> RunningRelay:
    """A relay with its own pool and NATS connection, as each replica has; ``background=False``
    leaves its loop off, for a test that drains by hand without racing it for the pool."""
    own = Database({s: db.dsn(s) for s in db.server_keys}, pool_size=2)
    link = NatsLink(url, name=f"test-relay-{uuid.uuid4().hex[:6]}", stream=StreamSpec())
    relay = Relay(own, link, RelayOptions(**options))
    if background:
        relay.start()
    link.start()
    await link.wait_connected(timeout=20)
    return RunningRelay(relay, link, own)


@pytest.fixture
async def relays(db: Database) -> AsyncIterator[list[RunningRelay]]:
    started: list[RunningRelay] = []
    try:
        yield started
    finally:
        for running in started:
            await running.stop()


# --- a real GraphQL execution whose resolver writes through territory_change


@strawberry.type
class _Query:
    ok: bool = True


@strawberry.type
class _Mutation:
    @strawberry.mutation
    async def create_events(
        self, info: Info, territory: str, count: int = 1, fail: bool = False
    ) -> list[str]:
        """``count`` community.created events in one change; ``fail`` raises after emitting."""
        emitted = []
        async with territory_change(info, territory) as change:
            for _ in range(count):
                event = CommunityCreated(territory_id=territory, community_id=uuid.uuid4())
                emitted.append(str(change.emit(event).id))
            if fail:
                raise BadUserInput("rolled back on purpose")
        return emitted

    @strawberry.mutation
    async def emit_elsewhere(self, info: Info, territory: str, other: str) -> bool:
        """Emits an event of ``other`` in a change of ``territory`` (refused)."""
        async with territory_change(info, territory) as change:
            change.emit(CommunityCreated(territory_id=other, community_id=uuid.uuid4()))
        return True

    @strawberry.mutation
    async def grant_event(self, info: Info, territory: str, user_id: str, fail: bool) -> str:
        """A role.granted event in a global-only transaction, as a role grant writes it."""
        event = RoleGranted(
            territory_id=territory,
            user_id=uuid.UUID(user_id),
            user_territory=TerritoryRef(territory),
            role=Role.MODERATOR,
        )
        async with info.context.db.transaction(MAIN_SERVER) as conn:
            (envelope,) = await emit_global(info, conn, event)
            if fail:
                raise BadUserInput("rolled back on purpose")
        return str(envelope.id)


# ReleaseReads: the request's read connections go back to the pool, as in the app.
EMIT_SCHEMA = strawberry.Schema(query=_Query, mutation=_Mutation, extensions=[ReleaseReads])
CREATE = """
mutation($t: String!, $n: Int!, $f: Boolean!) { createEvents(territory: $t, count: $n, fail: $f) }
"""


@dataclass
class Emitter:
    """Runs CREATE with a real Context (GraphQLApp.get_context on a real request with a token)."""

    app: GraphQLApp
    token: str
    user_id: str

    async def context(self) -> Context:
        scope = {
            "type": "http",
            "method": "POST",
            "path": "/graphql",
            "headers": [(b"authorization", f"Bearer {self.token}".encode())],
            "client": ("127.0.0.1", 40000),
            "query_string": b"",
        }
        return await self.app.get_context(Request(scope), Response())

    async def run(self, query: str, **variables: Any) -> Any:
        return await EMIT_SCHEMA.execute(
            query, variable_values=variables, context_value=await self.context()
        )

    async def emit(self, territory: str, count: int = 1, *, fail: bool = False) -> Any:
        return await self.run(CREATE, t=territory, n=count, f=fail)

    async def ids(self, territory: str, count: int = 1) -> set[uuid.UUID]:
        result = await self.emit(territory, count)
        assert result.errors is None, result.errors
        return {uuid.UUID(i) for i in result.data["createEvents"]}


@pytest.fixture(scope="session")
async def emitter(auth_app: Any, auth_client: httpx.AsyncClient, db: Database) -> Emitter:
    logged = await account(auth_client, db, "dk")
    app = GraphQLApp(db, graphiql=False, auth=auth_app.state.auth)
    return Emitter(app, logged["accessToken"], logged["user"]["id"])


def relay_env(db: Database, nats_url: str) -> dict[str, str]:
    """Environment of a `unityplan relay` subprocess running this worktree's code."""
    return {
        **os.environ,
        "PYTHONPATH": str(REPO),
        "DATABASE_URL": db.dsn("main"),
        "DATABASE_SERVERS": json.dumps({s: db.dsn(s) for s in db.server_keys if s != "main"}),
        "NATS_URL": nats_url,
        "UNITYPLAN_ENV": "test",
        "EVENTS_SWEEP_INTERVAL_SECONDS": "0.5",
        "LOG_FORMAT": "text",
    }
