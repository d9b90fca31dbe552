"""The relay publishes every committed event to JetStream once, with several relays running."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections import Counter
from datetime import timedelta

import nats
from sqlalchemy import select, update

from db import events as outbox_db
from db.engines import Database
from db.models import outbox
from events.relay import OutboxLocation
from events.streams import StreamSpec
from tests.events.conftest import (
    Emitter,
    NatsServer,
    RunningRelay,
    start_relay,
    wait_for,
    wait_for_ids,
)
from unityplan.settings import MAIN_SERVER


async def sent_at(db: Database, territory: str, wanted: set[uuid.UUID]) -> dict[uuid.UUID, object]:
    server = "second" if territory == "se" else MAIN_SERVER
    async with db.connect(server, territory) as conn:
        found = await conn.execute(
            select(outbox.c.id, outbox.c.sent_at).where(outbox.c.id.in_(wanted))
        )
        return {r.id: r.sent_at for r in found}


async def test_two_relays_publish_every_event_once(
    emitter: Emitter, db: Database, nats_server: NatsServer, relays: list[RunningRelay]
) -> None:
    relays.append(await start_relay(db, nats_server.url, sweep_interval=0.2, batch_size=7))
    relays.append(await start_relay(db, nats_server.url, sweep_interval=0.2, batch_size=7))
    wanted: set[uuid.UUID] = set()
    for _ in range(10):  # commits spread over time, both relays racing for each
        wanted |= await emitter.ids("dk", 5)
        wanted |= await emitter.ids("se", 3)
    seen = await wait_for_ids(nats_server.url, wanted)
    assert Counter(seen).most_common(1)[0][1] == 1
    assert len(seen) == len(wanted) == 80

    async def all_marked() -> bool:
        marks = await sent_at(db, "dk", wanted) | await sent_at(db, "se", wanted)
        return all(v is not None for v in marks.values())

    await wait_for(all_marked)
    # No row was published twice (a second publish within the window is acked as a duplicate).
    assert relays[0].relay.stats.duplicates + relays[1].relay.stats.duplicates == 0


async def test_a_commit_wakes_the_relay_without_waiting_for_a_sweep(
    emitter: Emitter, db: Database, nats_server: NatsServer, relays: list[RunningRelay]
) -> None:
    relays.append(await start_relay(db, nats_server.url, sweep_interval=3600))
    await asyncio.sleep(0.5)  # the first sweep (at start) is over
    started = time.monotonic()
    wanted = await emitter.ids("se", 1)  # a territory on the second server: its own LISTEN
    await wait_for_ids(nats_server.url, wanted, timeout=5)
    assert time.monotonic() - started < 5


async def test_stream_is_created_with_its_documented_retention(
    db: Database, nats_server: NatsServer, relays: list[RunningRelay]
) -> None:
    relays.append(await start_relay(db, nats_server.url))
    nc = await nats.connect(nats_server.url)
    try:
        info = await nc.jetstream().stream_info(StreamSpec().name)
    finally:
        await nc.close()
    spec = StreamSpec()
    assert info.config.subjects == ["unityplan.>"]
    assert info.config.max_age == spec.max_age.total_seconds()
    assert info.config.max_bytes == spec.max_bytes
    assert info.config.duplicate_window == spec.duplicate_window.total_seconds()
    # A second start (another replica, a restart) with a changed spec updates it in place.
    relays.append(await start_relay(db, nats_server.url))
    await relays[-1].link.wait_connected(5)


async def test_failed_publish_is_retried_with_backoff(db: Database) -> None:
    assert outbox_db.retry_delay(1) == timedelta(seconds=1)
    assert outbox_db.retry_delay(2) == timedelta(seconds=2)
    assert outbox_db.retry_delay(5) == timedelta(seconds=16)
    assert outbox_db.retry_delay(40) == outbox_db.RETRY_MAX


async def test_mark_failed_counts_and_postpones(emitter: Emitter, db: Database) -> None:
    (event_id,) = await emitter.ids("dk", 1)
    async with db.transaction(MAIN_SERVER, "dk") as conn:
        claimed = [e for e in await outbox_db.claim(conn, "dk", 1000) if e.id == event_id]
        assert len(claimed) == 1
        await outbox_db.mark_failed(conn, "dk", claimed[0], "TimeoutError")
    async with db.transaction(MAIN_SERVER, "dk") as conn:
        again = [e.id for e in await outbox_db.claim(conn, "dk", 1000)]
        assert event_id not in again  # not due for another second
        row = (await conn.execute(select(outbox).where(outbox.c.id == event_id))).one()
        assert row.attempts == 1
        assert row.last_error == "TimeoutError"
        assert row.sent_at is None
        await outbox_db.mark_sent(conn, "dk", [event_id])


async def test_sent_rows_are_pruned_after_the_retention(emitter: Emitter, db: Database) -> None:
    old, recent = sorted(await emitter.ids("dk", 2))
    async with db.transaction(MAIN_SERVER, "dk") as conn:
        await outbox_db.mark_sent(conn, "dk", [old, recent])
        await conn.execute(
            update(outbox)
            .where(outbox.c.id == old)
            .values(sent_at=outbox.c.sent_at - outbox_db.SENT_RETENTION - timedelta(minutes=1))
        )
        assert await outbox_db.prune_sent(conn, "dk") >= 1
    remaining = await sent_at(db, "dk", {old, recent})
    assert set(remaining) == {recent}


async def test_unmigrated_or_empty_outboxes_do_not_stop_the_relay(
    db: Database, nats_server: NatsServer, relays: list[RunningRelay]
) -> None:
    # Its own loop stays off: late in the suite every territory's outbox holds other tests'
    # events, and a loop draining them too would race this test for the relay's small pool.
    running = await start_relay(db, nats_server.url, background=False)
    relays.append(running)
    locations = await running.relay.locations()
    assert {(loc.server, loc.territory_id) for loc in locations} >= {
        (MAIN_SERVER, None),
        (MAIN_SERVER, "dk"),
        ("second", "se"),
    }
    for location in locations:
        await running.relay.drain(location)
    # A registered territory whose schema is not at the outbox revision yet is skipped.
    assert await running.relay.drain(OutboxLocation(MAIN_SERVER, "c_dk_unmigrated")) == 0


async def test_a_deleted_stream_is_made_again(
    emitter: Emitter, db: Database, nats_server: NatsServer, relays: list[RunningRelay]
) -> None:
    relays.append(await start_relay(db, nats_server.url, sweep_interval=0.2))
    await wait_for_ids(nats_server.url, await emitter.ids("dk", 1))
    nc = await nats.connect(nats_server.url)
    try:
        await nc.jetstream().delete_stream(StreamSpec().name)
    finally:
        await nc.close()
    wanted = await emitter.ids("dk", 2)
    seen = await wait_for_ids(nats_server.url, wanted, timeout=30)
    assert Counter(seen) == dict.fromkeys(wanted, 1)
