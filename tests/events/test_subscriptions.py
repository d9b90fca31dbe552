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
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
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
from tests.conftest import delete_redis_keys
from tests.events.conftest import NatsServer, wait_for
from tests.live import serve
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
