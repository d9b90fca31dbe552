"""`communityActivity` over graphql-transport-ws: a real WebSocket client against the app served by
uvicorn, its relay and fan-out on a NATS server of the test's own, events from real mutations.

Authorization at subscribe time and for every delivered event: anonymous callers follow public
communities only; a removed member of an invite-only community and a logged-out session stop
receiving; a subscriber that falls behind its bounded queue ends alone with a coded error.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import subprocess
import sys
import tempfile
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import text
from websockets.asyncio.client import ClientConnection, connect

from db import events as outbox
from db.engines import Database
from domain.communities import CommunityRole
from domain.events import CommunityMemberRoleChanged, seal
from domain.territories import schema_name
from graph import ids
from graph.server.app import create_app
from tests.authkit import LOGOUT, account, call, server_of
from tests.communities.test_community_mutations import ADD, CREATE, JOIN, LEAVE, REMOVE
from tests.conftest import CHECKOUT, delete_redis_keys
from tests.events.conftest import NatsServer, wait_for
from tests.live import serve
from unityplan.devservices import free_port
from unityplan.settings import Settings

PREFIX = f"unityplan-test-subs-{os.getpid()}:"
ACTIVITY = """
subscription($id: ID!) { communityActivity(communityId: $id) { id kind occurredAt actor { id } } }
"""
WAIT = 20.0


@dataclass
class Live:
    """The served app, an HTTP client to it, and its WebSocket URL."""

    app: Any
    http: httpx.AsyncClient
    ws_url: str

    def subscribers(self) -> int:
        return int(self.app.state.events.fanout.subscriber_count())

    async def until_subscribers(self, count: int) -> None:
        async def reached() -> bool:
            return self.subscribers() >= count

        await wait_for(reached, WAIT)


@contextmanager
def _served(settings: Settings, nats: NatsServer, **overrides: Any) -> Iterator[tuple[Any, str]]:
    own = settings.model_copy(
        update={
            "nats_url": nats.url,
            "redis_key_prefix": PREFIX,
            "events_sweep_interval_seconds": 0.5,
            **overrides,
        }
    )
    app = create_app(own)
    with serve(app) as url:
        yield app, url


@asynccontextmanager
async def live_app(settings: Settings, nats: NatsServer, **overrides: Any) -> AsyncIterator[Live]:
    with _served(settings, nats, **overrides) as (app, url):
        async with httpx.AsyncClient(base_url=url, timeout=30) as http:
            live = Live(app, http, url.replace("http://", "ws://") + "/graphql")

            async def connected() -> bool:
                return bool(app.state.events.link.is_connected)

            await wait_for(connected, WAIT)
            yield live
    await delete_redis_keys(settings.redis_url, PREFIX)


@pytest.fixture
async def live(settings: Settings, nats_server: NatsServer) -> AsyncIterator[Live]:
    async with live_app(settings, nats_server) as running:
        yield running


@asynccontextmanager
async def socket(live: Live, token: str | None = None) -> AsyncIterator[ClientConnection]:
    async with connect(live.ws_url, subprotocols=["graphql-transport-ws"]) as ws:  # type: ignore[list-item]
        payload = {} if token is None else {"authorization": f"Bearer {token}"}
        await ws.send(json.dumps({"type": "connection_init", "payload": payload}))
        assert json.loads(await ws.recv()) == {"type": "connection_ack"}
        yield ws


async def subscribe(ws: ClientConnection, op: str, community: str) -> None:
    message = {
        "id": op,
        "type": "subscribe",
        "payload": {"query": ACTIVITY, "variables": {"id": community}},
    }
    await ws.send(json.dumps(message))


async def receive(ws: ClientConnection) -> dict[str, Any]:
    async with asyncio.timeout(WAIT):
        message: dict[str, Any] = json.loads(await ws.recv())
    return message


async def activity(ws: ClientConnection) -> dict[str, Any]:
    message = await receive(ws)
    assert message["type"] == "next", message
    assert "errors" not in message["payload"], message
    data: dict[str, Any] = message["payload"]["data"]["communityActivity"]
    return data


def codes(message: dict[str, Any]) -> list[str]:
    errors = message["payload"] if message["type"] == "error" else message["payload"]["errors"]
    return [e["extensions"]["code"] for e in errors]


async def ended_with(ws: ClientConnection, code: str) -> None:
    """The next messages are the operation's coded error, then (for `next`) its `complete`."""
    message = await receive(ws)
    assert message["type"] in ("next", "error"), message
    assert codes(message) == [code], message
    if message["type"] == "next":
        assert (await receive(ws))["type"] == "complete"


def ok(body: dict[str, Any]) -> dict[str, Any]:
    assert "errors" not in body, body
    data: dict[str, Any] = body["data"]
    return data


async def people(live: Live, db: Database, territory: str = "dk") -> dict[str, Any]:
    return {
        "manager": await account(live.http, db, territory, role="territory_manager"),
        "alice": await account(live.http, db, territory),
        "bob": await account(live.http, db, territory),
    }


async def community(live: Live, manager: dict[str, Any], *, public: bool) -> str:
    variables = {
        "i": {
            "territory": "dk",
            "slug": f"live-{uuid.uuid4().hex[:8]}",
            "name": "Live",
            "visibility": "PUBLIC" if public else "INVITE_ONLY",
        }
    }
    body = await call(live.http, CREATE, variables, manager["accessToken"])
    found: str = ok(body)["createCommunity"]["community"]["id"]
    return found


async def test_members_and_anonymous_callers_follow_a_public_community(
    live: Live, db: Database
) -> None:
    who = await people(live, db)
    public = await community(live, who["manager"], public=True)
    async with socket(live, who["bob"]["accessToken"]) as member, socket(live) as anonymous:
        await subscribe(member, "1", public)
        await subscribe(anonymous, "1", public)
        await live.until_subscribers(2)
        alice = who["alice"]
        ok(await call(live.http, JOIN, {"id": public}, alice["accessToken"]))
        seen = await activity(member)
        assert seen["kind"] == "MEMBER_JOINED"
        alice_key = ids.decode(alice["user"]["id"]).key
        assert seen["actor"] == {"id": ids.encode("Profile", "dk", alice_key)}
        uuid.UUID(seen["id"])
        anonymous_seen = await activity(anonymous)
        assert anonymous_seen["id"] == seen["id"]
        assert anonymous_seen["actor"] is None  # a territory-wide profile shows them nothing


async def test_other_communities_events_are_not_delivered(live: Live, db: Database) -> None:
    who = await people(live, db)
    followed = await community(live, who["manager"], public=True)
    other = await community(live, who["manager"], public=True)
    async with socket(live, who["bob"]["accessToken"]) as ws:
        await subscribe(ws, "1", followed)
        await live.until_subscribers(1)
        ok(await call(live.http, JOIN, {"id": other}, who["alice"]["accessToken"]))
        ok(await call(live.http, JOIN, {"id": followed}, who["alice"]["accessToken"]))
        seen = await activity(ws)  # the first event it sees is the followed community's
        assert seen["kind"] == "MEMBER_JOINED"


async def test_invite_only_communities_are_refused_to_outsiders(live: Live, db: Database) -> None:
    who = await people(live, db)
    private = await community(live, who["manager"], public=False)
    for token in (None, who["alice"]["accessToken"]):
        async with socket(live, token) as ws:
            await subscribe(ws, "1", private)
            await ended_with(ws, "NOT_FOUND")
    assert live.subscribers() == 0
    async with socket(live, who["alice"]["accessToken"]) as ws:
        await subscribe(ws, "1", "not-an-id")
        await ended_with(ws, "BAD_USER_INPUT")


async def test_a_removed_member_stops_receiving(live: Live, db: Database) -> None:
    who = await people(live, db)
    manager, bob = who["manager"], who["bob"]
    private = await community(live, manager, public=False)
    bob_id, alice_id = bob["user"]["id"], who["alice"]["user"]["id"]
    ok(await call(live.http, ADD, {"c": private, "u": bob_id}, manager["accessToken"]))
    async with (
        socket(live, bob["accessToken"]) as removed,
        socket(live, manager["accessToken"]) as admin,
    ):
        await subscribe(removed, "1", private)
        await subscribe(admin, "1", private)
        await live.until_subscribers(2)
        ok(await call(live.http, REMOVE, {"c": private, "u": bob_id}, manager["accessToken"]))
        assert (await activity(admin))["kind"] == "MEMBER_LEFT"
        # Authorized again with fresh loaders: bob no longer sees the community.
        await ended_with(removed, "NOT_FOUND")
        ok(await call(live.http, ADD, {"c": private, "u": alice_id}, manager["accessToken"]))
        assert (await activity(admin))["kind"] == "MEMBER_JOINED"
        await live.until_subscribers(1)
        assert live.subscribers() == 1


async def test_a_logged_out_session_stops_receiving(live: Live, db: Database) -> None:
    who = await people(live, db)
    public = await community(live, who["manager"], public=True)
    alice = who["alice"]
    async with socket(live, alice["accessToken"]) as ws:
        await subscribe(ws, "1", public)
        await live.until_subscribers(1)
        ok(await call(live.http, JOIN, {"id": public}, who["bob"]["accessToken"]))
        assert (await activity(ws))["kind"] == "MEMBER_JOINED"
        ok(await call(live.http, LOGOUT, {"all": False}, alice["accessToken"]))
        ok(await call(live.http, LEAVE, {"id": public}, who["bob"]["accessToken"]))
        await ended_with(ws, "UNAUTHENTICATED")


async def test_a_subscriber_that_falls_behind_ends_alone_with_a_coded_error(
    settings: Settings, nats_server: NatsServer, db: Database
) -> None:
    async with live_app(settings, nats_server, events_subscriber_queue_size=2) as live:
        who = await people(live, db)
        public = await community(live, who["manager"], public=True)
        territory, key = ids.decode(public).territory_id, uuid.UUID(ids.decode(public).key)
        user = uuid.UUID(ids.decode(who["bob"]["user"]["id"]).key)
        burst = [
            seal(
                CommunityMemberRoleChanged(
                    territory_id=territory,
                    community_id=key,
                    user_id=user,
                    role=CommunityRole.MEMBER,
                    previous_role=CommunityRole.MODERATOR,
                ),
                actor=None,
                node_id=ids.encode,
            )
            for _ in range(10)
        ]
        async with socket(live, who["bob"]["accessToken"]) as ws:
            await subscribe(ws, "1", public)
            await live.until_subscribers(1)
            # The subscriber's per-event authorization reads the community: while the table is
            # locked it is stuck on the first event, so the others fill its queue of 2.
            async with db.transaction(server_of(territory), territory) as lock:
                await lock.execute(
                    text(
                        f"LOCK TABLE {schema_name(territory)}.communities IN ACCESS EXCLUSIVE MODE"
                    )
                )
                async with db.transaction(server_of(territory), territory) as conn:
                    await outbox.insert_events(conn, territory, burst)

                async def dropped() -> bool:
                    return live.subscribers() == 0

                await wait_for(dropped, WAIT)
            message = await receive(ws)
            if message["type"] == "next" and "errors" not in message["payload"]:
                message = await receive(ws)  # the event it was authorizing, then the error
            assert codes(message) == ["SUBSCRIPTION_OVERFLOW"], message
            # The connection itself stays usable: a new subscription works.
            await subscribe(ws, "2", public)
            await live.until_subscribers(1)


async def test_waiting_subscribers_hold_no_database_connection(
    settings: Settings, nats_server: NatsServer, db: Database
) -> None:
    """More subscribers than the pool has connections: each gives its read connection back after
    the subscribe-time check, so all of them subscribe and receive."""
    tight = {"database_pool_size": 2, "database_pool_timeout": 2.0}
    async with live_app(settings, nats_server, **tight) as live:
        who = await people(live, db)
        public = await community(live, who["manager"], public=True)
        async with contextlib.AsyncExitStack() as stack:
            sockets = [await stack.enter_async_context(socket(live)) for _ in range(8)]
            for ws in sockets:
                await subscribe(ws, "1", public)
            await live.until_subscribers(len(sockets))
            ok(await call(live.http, JOIN, {"id": public}, who["alice"]["accessToken"]))
            for ws in sockets:
                assert (await activity(ws))["kind"] == "MEMBER_JOINED"


# --- two `unityplan serve` processes sharing the databases, Redis and NATS


@dataclass
class Process:
    """A `unityplan serve` subprocess, its URL and the file its output goes to."""

    url: str
    process: subprocess.Popen[bytes]
    log: Path

    @property
    def ws_url(self) -> str:
        return self.url.replace("http://", "ws://") + "/graphql"

    def tail(self) -> str:
        return self.log.read_text(errors="replace")[-3000:]


def serve_env(settings: Settings, nats: NatsServer, private_pem: str, port: int) -> dict[str, str]:
    """Environment of a `unityplan serve` running this checkout's code on the test's services;
    the signing key is the same for every process, so a token from one is valid on the other."""
    servers = settings.servers()
    return {
        **os.environ,
        "PYTHONPATH": CHECKOUT,
        "UNITYPLAN_ENV": "test",
        "DATABASE_URL": servers["main"],
        "DATABASE_SERVERS": json.dumps({k: v for k, v in servers.items() if k != "main"}),
        "REDIS_URL": settings.redis_url,
        "REDIS_KEY_PREFIX": PREFIX,
        "NATS_URL": nats.url,
        "JWT_PRIVATE_KEYS": json.dumps({"shared": private_pem}),
        "HOST": "127.0.0.1",
        "PORT": str(port),
        "WORKERS": "1",
        "RATE_LIMIT": "false",
        "PASSWORD_HASHING": "minimal",
        "EVENTS_SWEEP_INTERVAL_SECONDS": "0.5",
        "LOG_FORMAT": "text",
    }


async def wait_healthy(served: Process) -> None:
    async with httpx.AsyncClient(base_url=served.url) as probe:
        for _ in range(300):
            if served.process.poll() is not None:
                break
            with contextlib.suppress(httpx.TransportError):
                if (await probe.get("/healthz")).status_code == 200:
                    return
            await asyncio.sleep(0.1)
    raise RuntimeError(f"unityplan serve did not start; its log ends with:\n{served.tail()}")


def start_process(env: dict[str, str], port: int) -> Process:
    command = [str(Path(sys.executable).parent / "unityplan"), "serve"]
    log = Path(tempfile.mkstemp(prefix="unityplan-test-serve-", suffix=".log")[1])
    with log.open("wb") as out:
        process = subprocess.Popen(
            command, env=env, cwd=CHECKOUT, stdin=subprocess.DEVNULL, stdout=out, stderr=out
        )
    return Process(f"http://127.0.0.1:{port}", process, log)


def stop_processes(started: list[Process]) -> None:
    """SIGTERM to every process first (they shut down side by side), then wait for each."""
    for served in started:
        served.process.terminate()
    for served in started:
        try:
            served.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            served.process.kill()
            served.process.wait()
        served.log.unlink(missing_ok=True)


@asynccontextmanager
async def serve_processes(
    settings: Settings, nats: NatsServer, count: int
) -> AsyncIterator[list[Process]]:
    """``count`` `unityplan serve` processes, each with its own relay and fan-out; stopped
    however the test ends."""
    key = Ed25519PrivateKey.generate()
    private_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    started: list[Process] = []
    try:
        for _ in range(count):
            port = free_port()
            started.append(start_process(serve_env(settings, nats, private_pem, port), port))
        for served in started:
            await wait_healthy(served)
        yield started
    finally:
        stop_processes(started)
        await delete_redis_keys(settings.redis_url, PREFIX)


async def joined_within(ws: ClientConnection, seconds: float) -> dict[str, Any] | None:
    """The first MEMBER_JOINED event within ``seconds``; None if none came or the subscription
    ended because the process's NATS link is not up yet (any other error fails the test)."""
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(seconds):
            while True:
                message = await receive(ws)
                if message["type"] == "next" and "errors" in message["payload"]:
                    assert codes(message) == ["SERVICE_UNAVAILABLE"], message
                    return None
                assert message["type"] == "next", message
                event: dict[str, Any] = message["payload"]["data"]["communityActivity"]
                if event["kind"] == "MEMBER_JOINED":
                    return event
    return None


async def test_a_mutation_on_one_process_reaches_a_subscriber_on_another(
    settings: Settings, nats_server: NatsServer, db: Database
) -> None:
    """Issue 11: each replica relays its outbox to NATS and fans out what NATS delivers, so a
    subscriber need not be connected to the process that ran the mutation."""
    async with (
        serve_processes(settings, nats_server, 2) as (a, b),
        httpx.AsyncClient(base_url=a.url, timeout=30) as on_a,
    ):
        who = {
            "manager": await account(on_a, db, "dk", role="territory_manager"),
            "alice": await account(on_a, db, "dk"),
            "bob": await account(on_a, db, "dk"),
        }
        public = await community(Live(None, on_a, a.ws_url), who["manager"], public=True)
        alice = who["alice"]["accessToken"]
        on_b = Live(None, on_a, b.ws_url)
        # B's NATS link and consumer may not be in place yet, and B's process state cannot be
        # read from here: on a fresh subscription each time, join (and leave again) on A until B
        # delivers the join. Bob's token, issued by A, authenticates him on B.
        seen: dict[str, Any] | None = None
        for _ in range(10):
            async with socket(on_b, who["bob"]["accessToken"]) as ws:
                await subscribe(ws, "1", public)
                ok(await call(on_a, JOIN, {"id": public}, alice))
                seen = await joined_within(ws, 3.0)
            if seen is not None:
                break
            ok(await call(on_a, LEAVE, {"id": public}, alice))
        assert seen is not None, f"B delivered nothing; its log ends with:\n{b.tail()}"
        alice_key = ids.decode(who["alice"]["user"]["id"]).key
        assert seen["actor"] == {"id": ids.encode("Profile", "dk", alice_key)}
