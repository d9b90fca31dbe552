"""`commentAdded` and `topicUpdated` over graphql-transport-ws, fed by the events pipeline: real
mutations, the relay, NATS and the fan-out, authorized at subscribe time and per event."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
from websockets.asyncio.client import ClientConnection

from db.engines import Database
from tests.authkit import account
from tests.events.conftest import NatsServer, nats_server  # noqa: F401 - the fixture
from tests.events.test_subscriptions import Live, live_app, receive, socket
from tests.forums.forumkit import new_comment, new_forum, new_topic
from unityplan.settings import Settings

COMMENTS = "subscription($id: ID!) { commentAdded(topicId: $id) { body depth author { userId } } }"
TOPICS = """subscription($id: ID!) { topicUpdated(forumId: $id) { kind
  topic { title commentCount isPinned } } }"""


@pytest.fixture
async def live(settings: Settings, nats_server: NatsServer) -> AsyncIterator[Live]:  # noqa: F811
    async with live_app(settings, nats_server) as running:
        yield running


async def subscribe(ws: ClientConnection, query: str, target: str) -> None:
    message = {
        "id": "1",
        "type": "subscribe",
        "payload": {"query": query, "variables": {"id": target}},
    }
    await ws.send(json.dumps(message))


async def data(ws: ClientConnection, field: str) -> dict[str, Any]:
    message = await receive(ws)
    assert message["type"] == "next", message
    assert "errors" not in message["payload"], message
    found: dict[str, Any] = message["payload"]["data"][field]
    return found


async def test_comments_and_topic_updates_arrive_live(live: Live, db: Database) -> None:
    manager = await account(live.http, db, "dk", role="territory_manager")
    reader, writer = await account(live.http, db, "dk"), await account(live.http, db, "dk")
    forum = await new_forum(live.http, manager["accessToken"], "dk", "Live")
    topic = await new_topic(live.http, reader["accessToken"], forum, "Live topic")
    async with (
        socket(live, reader["accessToken"]) as comments,
        socket(live, reader["accessToken"]) as topics,
    ):
        await subscribe(comments, COMMENTS, topic)
        await subscribe(topics, TOPICS, forum)
        await live.until_subscribers(2)
        first = await new_comment(live.http, writer["accessToken"], topic, "Hello live")
        added = await data(comments, "commentAdded")
        assert added == {
            "body": "Hello live",
            "depth": 0,
            "author": {"userId": writer["user"]["id"]},
        }
        updated = await data(topics, "topicUpdated")
        assert updated == {
            "kind": "COMMENTED",
            "topic": {"title": "Live topic", "commentCount": 1, "isPinned": False},
        }
        await new_comment(live.http, reader["accessToken"], topic, "A reply", first)
        assert (await data(comments, "commentAdded"))["depth"] == 1


async def test_another_territory_cannot_follow(live: Live, db: Database) -> None:
    manager = await account(live.http, db, "dk", role="territory_manager")
    outsider = await account(live.http, db, "se")
    forum = await new_forum(live.http, manager["accessToken"], "dk", "Danish")
    async with socket(live, outsider["accessToken"]) as ws:
        await subscribe(ws, TOPICS, forum)
        message = await receive(ws)
        assert message["type"] in ("error", "next"), message
        errors = message["payload"] if message["type"] == "error" else message["payload"]["errors"]
        assert [e["extensions"]["code"] for e in errors] == ["NOT_FOUND"]
