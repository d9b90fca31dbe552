"""The process hooks: the API's events start without NATS and recover when it comes back."""

from __future__ import annotations

import asyncio

import pytest

from db.engines import Database
from events.fanout import FanOut
from events.runtime import start_events
from graph import ids
from tests.events.conftest import (
    REPO,
    Emitter,
    NatsServer,
    RunningRelay,
    relay_env,
    start_relay,
    wait_for,
    wait_for_ids,
)
from tests.events.test_fanout import take
from tests.events.test_relay_failures import RELAY_COMMAND
from unityplan.settings import Settings


async def test_events_start_while_nats_is_down_and_connect_when_it_is_up(
    settings: Settings, emitter: Emitter, nats_server: NatsServer
) -> None:
    nats_server.stop()
    events = await start_events(
        settings.model_copy(
            update={"nats_url": nats_server.url, "events_sweep_interval_seconds": 0.2}
        ),
        node_id=ids.encode,
    )
    try:
        assert not events.link.is_connected  # start_events did not wait for NATS
        wanted = await emitter.ids("dk", 2)  # commits go on meanwhile
        nats_server.start()
        await events.link.wait_connected(timeout=30)
        await wait_for_ids(nats_server.url, wanted)
        assert events.relay is not None
    finally:
        await events.stop()


async def test_relay_can_be_turned_off_in_the_api(settings: Settings) -> None:
    events = await start_events(
        settings.model_copy(update={"events_relay": False, "events_notifier": False}),
        node_id=ids.encode,
    )
    try:
        assert events.relay is None
        assert events.notifier is None
        assert isinstance(events.fanout, FanOut)
    finally:
        await events.stop()


async def test_a_subscriber_keeps_receiving_across_a_nats_restart(
    emitter: Emitter, db: Database, nats_server: NatsServer, relays: list[RunningRelay]
) -> None:
    relays.append(await start_relay(db, nats_server.url, sweep_interval=0.2))
    link = relays[0].link
    fanout = FanOut(link)
    async with fanout.subscribe("unityplan.dk.>") as sub:
        before = await emitter.ids("dk", 1)
        assert {e.id for e in await take(sub, 1)} == before
        nats_server.stop()

        async def disconnected() -> bool:
            return not link.is_connected

        await wait_for(disconnected, timeout=10)
        during = await emitter.ids("dk", 1)  # committed while NATS is down
        nats_server.start()
        await link.wait_connected(timeout=30)
        after = await emitter.ids("dk", 1)
        got = await take(sub, 2, timeout=10)
        assert [e.id for e in got] == sorted(during | after)  # none lost, in order
        with pytest.raises(TimeoutError):
            await take(sub, 1, timeout=1)  # and none twice


async def test_unityplan_relay_stops_cleanly_on_sigterm(
    db: Database, nats_server: NatsServer
) -> None:
    proc = await asyncio.create_subprocess_exec(
        *RELAY_COMMAND,
        env=relay_env(db, nats_server.url),
        cwd=REPO,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    assert proc.stderr is not None
    # Under load importing the CLI alone takes seconds: wait for the line saying it is running.
    async with asyncio.timeout(60):
        while b"events running" not in await proc.stderr.readline():
            assert proc.returncode is None
    proc.terminate()
    _, err = await asyncio.wait_for(proc.communicate(), 20)
    assert proc.returncode == 0, err.decode()[-2000:]
