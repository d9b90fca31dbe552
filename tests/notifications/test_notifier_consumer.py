"""The durable consumer on a real NATS server: replicas share it, and an event that reaches the
stream twice (re-published past the duplicate window) is still stored once."""

from __future__ import annotations

import httpx
import nats
import orjson

from db.engines import Database
from events.connection import NatsLink
from events.notifier import Notifier, NotifierOptions
from events.streams import StreamSpec
from graph import ids
from tests.authkit import account
from tests.events.conftest import NatsServer, wait_for
from tests.notifications.conftest import envelope_of
from tests.notifications.test_notification_store import granted, notes


async def test_replicas_share_one_durable_consumer_and_store_each_event_once(
    auth_client: httpx.AsyncClient, db: Database, nats_server: NatsServer
) -> None:
    alice = await account(auth_client, db, "dk")
    options = NotifierOptions(batch_size=4, fetch_timeout=0.2)
    replicas = []
    for n in range(2):
        link = NatsLink(nats_server.url, name=f"notifier-{n}", stream=StreamSpec())
        replicas.append((link, Notifier(db, link, ids.encode, options)))
    try:
        for link, notifier in replicas:
            notifier.start()
            link.start()
            await link.wait_connected(timeout=20)
        envelopes = [envelope_of(granted(alice)) for _ in range(12)]
        nc = await nats.connect(nats_server.url)
        js = nc.jetstream()
        for envelope in envelopes:
            data = orjson.dumps(envelope.to_json())
            await js.publish(envelope.subject, data, headers={"Nats-Msg-Id": str(envelope.id)})
        # The first again under another message id: the stream keeps both copies.
        again = orjson.dumps(envelopes[0].to_json())
        await js.publish(envelopes[0].subject, again, headers={"Nats-Msg-Id": "replay"})
        await nc.close()

        async def all_seen() -> bool:
            return sum(n.stats.events for _, n in replicas) == len(envelopes) + 1

        await wait_for(all_seen)
        assert sum(n.stats.stored for _, n in replicas) == len(envelopes)
        assert (await notes(auth_client, alice))["unreadNotificationCount"] == len(envelopes)
    finally:
        for link, notifier in replicas:
            await notifier.stop()
            await link.close()
