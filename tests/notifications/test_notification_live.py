"""From a real mutation to the grantee's socket: the app served by uvicorn with its relay,
notifications consumer and fan-out on a NATS server of the test's own; graphql-transport-ws
clients. Only the recipient's sockets receive; a logged-out session stops receiving; quiet
hours hold the push (the consumer's clock is injected) while the notification is stored."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from websockets.asyncio.client import ClientConnection

from db.engines import Database
from events.notifier import Notifier
from graph import ids
from tests.authkit import ASSIGN_ROLE, LOGOUT, account, call
from tests.events.conftest import NatsServer, wait_for
from tests.events.test_subscriptions import Live, ended_with, live_app, ok, receive, socket
from tests.notifications.conftest import Clock
from unityplan.settings import Settings

ADDED = "subscription { notificationAdded { id kind createdAt read subject { id } } }"
NOTES = "{ me { notifications { nodes { id kind } } } }"
PREFS = """
mutation($i: UpdateNotificationPreferencesInput!) {
  updateNotificationPreferences(input: $i) { notificationPreferences { quietHours { start } } }
}"""
DK = ids.encode("Territory", "dk", "dk")


async def subscribe(ws: ClientConnection) -> None:
    await ws.send(json.dumps({"id": "n", "type": "subscribe", "payload": {"query": ADDED}}))


async def added(ws: ClientConnection) -> dict[str, Any]:
    message = await receive(ws)
    assert message["type"] == "next", message
    assert "errors" not in message["payload"], message
    data: dict[str, Any] = message["payload"]["data"]["notificationAdded"]
    return data


async def grant(live: Live, manager: dict[str, Any], person: dict[str, Any], role: str) -> None:
    variables = {"i": {"userId": person["user"]["id"], "role": role, "territory": "dk"}}
    ok(await call(live.http, ASSIGN_ROLE, variables, manager["accessToken"]))


async def stored(live: Live, person: dict[str, Any]) -> list[dict[str, Any]]:
    body = ok(await call(live.http, NOTES, token=person["accessToken"]))
    found: list[dict[str, Any]] = body["me"]["notifications"]["nodes"]
    return found


def notifier(live: Live) -> Notifier:
    running = live.app.state.events.notifier
    assert isinstance(running, Notifier)
    return running


@pytest.fixture
async def live(settings: Settings, nats_server: NatsServer) -> Any:
    # The app runs on uvicorn's own loop: the test moves the notifier's clock and lets its
    # periodic sweep (every 0.2 s here) do the rest.
    overrides = {"notifications_sweep_interval_seconds": 0.2}
    async with live_app(settings, nats_server, **overrides) as running:
        yield running


async def test_a_role_grant_reaches_the_grantee_live_and_nobody_else(
    live: Live, db: Database
) -> None:
    manager = await account(live.http, db, "dk", role="territory_manager")
    alice, bob = await account(live.http, db, "dk"), await account(live.http, db, "dk")
    async with socket(live, alice["accessToken"]) as a, socket(live, bob["accessToken"]) as b:
        await subscribe(a)
        await subscribe(b)
        await live.until_subscribers(2)
        await grant(live, manager, alice, "MODERATOR")
        seen = await added(a)
        assert (seen["kind"], seen["read"], seen["subject"]) == ("ROLE_GRANTED", False, {"id": DK})
        assert [n["id"] for n in await stored(live, alice)] == [seen["id"]]
        await grant(live, manager, bob, "CONTENT_CREATOR")
        theirs = await added(b)  # bob's first message is his own: alice's never reached him
        assert theirs["id"] != seen["id"]
        assert [n["id"] for n in await stored(live, bob)] == [theirs["id"]]


async def test_after_logout_the_socket_stops_receiving(live: Live, db: Database) -> None:
    manager = await account(live.http, db, "dk", role="territory_manager")
    alice = await account(live.http, db, "dk")
    async with socket(live, alice["accessToken"]) as ws:
        await subscribe(ws)
        await live.until_subscribers(1)
        ok(await call(live.http, LOGOUT, {"all": False}, alice["accessToken"]))
        await grant(live, manager, alice, "MODERATOR")
        await ended_with(ws, "UNAUTHENTICATED")


async def test_quiet_hours_store_at_once_and_push_when_they_end(live: Live, db: Database) -> None:
    noon = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)
    clock = Clock(noon)
    notifier(live).clock = clock
    manager = await account(live.http, db, "dk", role="territory_manager")
    alice = await account(live.http, db, "dk")
    quiet = {"quietHours": {"start": "11:30", "end": "12:30", "timeZone": "UTC"}}
    ok(await call(live.http, PREFS, {"i": quiet}, alice["accessToken"]))
    async with socket(live, alice["accessToken"]) as ws:
        await subscribe(ws)
        await live.until_subscribers(1)
        await grant(live, manager, alice, "MODERATOR")

        async def kept() -> bool:
            return len(await stored(live, alice)) == 1

        await wait_for(kept)
        with pytest.raises(TimeoutError):  # held through several sweeps: nothing on the socket
            async with asyncio.timeout(1.5):
                await ws.recv()
        clock.now = noon + timedelta(minutes=30)
        seen = await added(ws)
        assert [n["id"] for n in await stored(live, alice)] == [seen["id"]]
