"""The in-process fan-out: one NATS subscription per pattern, bounded queues, slow ones dropped."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import orjson
import pytest

from db.engines import Database
from domain.errors import SubscriptionOverflow
from domain.events import CommunityCreated, Envelope, seal
from events.connection import NatsLink
from events.fanout import FanOut, Subscription
from events.streams import StreamSpec
from graph import ids
from tests.events.conftest import Emitter, NatsServer, RunningRelay, start_relay

DK = "unityplan.dk.community.>"


@pytest.fixture
async def link(nats_server: NatsServer) -> AsyncIterator[NatsLink]:
    connected = NatsLink(nats_server.url, name="test-fanout", stream=StreamSpec())
    connected.start()
    await connected.wait_connected(timeout=20)
    try:
        yield connected
    finally:
        await connected.close()


def created(territory: str = "dk") -> Envelope:
    event = CommunityCreated(territory_id=territory, community_id=uuid.uuid4())
    return seal(event, actor=None, node_id=ids.encode)


async def publish(link: NatsLink, envelope: Envelope) -> bool:
    """Publish as the relay does; True when the stream dropped it as a duplicate."""
    ack = await link.js.publish(
        envelope.subject,
        orjson.dumps(envelope.to_json()),
        headers={"Nats-Msg-Id": str(envelope.id)},
    )
    return bool(ack.duplicate)


async def take(subscription: Subscription, count: int, timeout: float = 10) -> list[Envelope]:
    async with asyncio.timeout(timeout):
        return [await anext(subscription) for _ in range(count)]


async def test_subscribers_of_a_pattern_share_one_nats_subscription(link: NatsLink) -> None:
    fanout = FanOut(link, queue_size=50)
    async with fanout.subscribe(DK) as first, fanout.subscribe(DK) as second:
        async with fanout.subscribe("unityplan.se.>") as other:
            assert fanout.nats_subscriptions == 2
            assert fanout.subscriber_count(DK) == 2
            sent = [created() for _ in range(3)]
            for envelope in [*sent, created("se")]:
                await publish(link, envelope)
            assert [e.id for e in await take(first, 3)] == [e.id for e in sent]
            assert [e.id for e in await take(second, 3)] == [e.id for e in sent]
            assert (await take(other, 1))[0].territory == "se"
        assert fanout.nats_subscriptions == 1
    assert fanout.nats_subscriptions == 0
    assert fanout.subscriber_count() == 0


async def test_a_filter_keeps_other_events_out_of_the_queue(link: NatsLink) -> None:
    fanout = FanOut(link, queue_size=2)
    wanted = created()
    community = wanted.subjects["community"]
    async with fanout.subscribe(DK, where=lambda e: e.subjects["community"] == community) as sub:
        for _ in range(5):  # more than the queue holds: none of them reaches it
            await publish(link, created())
        await publish(link, wanted)
        assert [e.id for e in await take(sub, 1)] == [wanted.id]
        assert not sub.dropped


async def test_a_slow_subscriber_alone_is_dropped_with_a_coded_error(link: NatsLink) -> None:
    fanout = FanOut(link, queue_size=5)
    async with fanout.subscribe(DK) as slow, fanout.subscribe(DK) as fast:
        sent = [created() for _ in range(20)]
        received: list[uuid.UUID] = []
        for envelope in sent:
            await publish(link, envelope)
            received += [e.id for e in await take(fast, 1)]  # fast keeps up, slow never reads
        assert received == [e.id for e in sent]
        assert slow.dropped
        with pytest.raises(SubscriptionOverflow) as raised:
            await anext(slow)
        assert raised.value.code == "SUBSCRIPTION_OVERFLOW"
        assert fanout.subscriber_count(DK) == 1  # dropped at once, not when it next reads
        assert slow._queue.qsize() <= 1  # its backlog was freed


async def test_a_republished_event_reaches_subscribers_once(link: NatsLink) -> None:
    fanout = FanOut(link, queue_size=10)
    async with fanout.subscribe(DK) as sub:
        envelope, after = created(), created()
        assert not await publish(link, envelope)
        assert await publish(link, envelope)  # a relay's second try: dropped by the stream
        await publish(link, after)
        assert [e.id for e in await take(sub, 2)] == [envelope.id, after.id]


async def test_a_commit_reaches_a_subscriber_through_the_relay(
    emitter: Emitter,
    db: Database,
    nats_server: NatsServer,
    link: NatsLink,
    relays: list[RunningRelay],
) -> None:
    relays.append(await start_relay(db, nats_server.url))
    fanout = FanOut(link)
    async with fanout.subscribe("unityplan.se.>") as sub:
        wanted = await emitter.ids("se", 2)
        got: list[Envelope] = []
        async with asyncio.timeout(10):
            async for envelope in sub:  # rows other tests left unsent may come first
                if envelope.id in wanted:
                    got.append(envelope)
                if len(got) == 2:
                    break
        assert {e.id for e in got} == wanted
        assert all(e.actor == emitter.user_id for e in got)
