"""A relay killed mid-batch and a NATS outage: every event ends on the stream exactly once."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import uuid
from collections import Counter

import asyncpg
from sqlalchemy import select
from sqlalchemy.engine import make_url

from db.engines import Database
from db.models import outbox
from tests.events.conftest import (
    REPO,
    Emitter,
    NatsServer,
    RunningRelay,
    relay_env,
    start_relay,
    stream_ids,
    wait_for,
    wait_for_ids,
)
from unityplan.settings import MAIN_SERVER

# `unityplan relay`, importing this worktree's code (PYTHONPATH in relay_env).
RELAY_COMMAND = [sys.executable, "-c", "from unityplan.cli import app; app()", "relay"]
HOLD_KEY = 0x6576_656E_7473  # an advisory lock only this test takes

HOLD_MARKING = f"""
CREATE FUNCTION territory_dk.hold_outbox_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN PERFORM pg_advisory_xact_lock_shared({HOLD_KEY}); RETURN NULL; END $$;
CREATE TRIGGER hold_outbox_update BEFORE UPDATE ON territory_dk.outbox
FOR EACH STATEMENT EXECUTE FUNCTION territory_dk.hold_outbox_update();
"""
RELEASE_MARKING = """
DROP TRIGGER hold_outbox_update ON territory_dk.outbox;
DROP FUNCTION territory_dk.hold_outbox_update();
"""


async def unsent(db: Database, wanted: set[uuid.UUID]) -> set[uuid.UUID]:
    async with db.connect(MAIN_SERVER, "dk") as conn:
        found = await conn.execute(
            select(outbox.c.id).where(outbox.c.id.in_(wanted), outbox.c.sent_at.is_(None))
        )
        return {r.id for r in found}


async def test_relay_killed_between_publish_and_mark_sent_publishes_once(
    emitter: Emitter, db: Database, nats_server: NatsServer, relays: list[RunningRelay]
) -> None:
    plain = make_url(db.dsn(MAIN_SERVER)).set(drivername="postgresql")
    admin = await asyncpg.connect(plain.render_as_string(hide_password=False))
    relay = None
    try:
        # Hold every "mark sent" of dk's outbox: the relay publishes, then waits on our lock.
        await admin.execute(f"SELECT pg_advisory_lock({HOLD_KEY})")
        await admin.execute(HOLD_MARKING)
        relay = await asyncio.create_subprocess_exec(
            *RELAY_COMMAND,
            env=relay_env(db, nats_server.url),
            cwd=REPO,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.DEVNULL,
        )
        wanted = await emitter.ids("dk", 3)
        await wait_for_ids(nats_server.url, wanted, timeout=60)  # published...
        assert await unsent(db, wanted) == wanted  # ...and not marked sent
        os.kill(relay.pid, signal.SIGKILL)
        await asyncio.wait_for(relay.wait(), 10)
        await admin.execute(f"SELECT pg_advisory_unlock({HOLD_KEY})")
        await admin.execute(RELEASE_MARKING)  # waits for the dead relay's transaction to end
        assert await unsent(db, wanted) == wanted  # its marks were rolled back

        # Another relay takes the rows over and publishes them again: the stream drops them.
        relays.append(await start_relay(db, nats_server.url, sweep_interval=0.2))

        async def marked() -> bool:
            return not await unsent(db, wanted)

        await wait_for(marked)
        seen = [i for i in await stream_ids(nats_server.url) if i in wanted]
        assert Counter(seen) == dict.fromkeys(wanted, 1)
        assert relays[0].relay.stats.duplicates >= 3
    finally:
        if relay is not None and relay.returncode is None:
            relay.kill()
            await relay.wait()
        await admin.execute("SELECT pg_advisory_unlock_all()")
        await admin.execute(
            "DROP TRIGGER IF EXISTS hold_outbox_update ON territory_dk.outbox; "
            "DROP FUNCTION IF EXISTS territory_dk.hold_outbox_update()"
        )
        await admin.close()


async def test_nats_outage_loses_and_doubles_nothing(
    emitter: Emitter, db: Database, nats_server: NatsServer, relays: list[RunningRelay]
) -> None:
    running = await start_relay(db, nats_server.url, sweep_interval=0.5)
    relays.append(running)
    await wait_for_ids(nats_server.url, await emitter.ids("dk", 1))
    nats_server.stop()

    async def disconnected() -> bool:
        return not running.link.is_connected

    await wait_for(disconnected, timeout=10)
    wanted: set[uuid.UUID] = set()
    for index in range(50):  # mutations keep committing while NATS is down
        wanted |= await emitter.ids("se" if index % 5 == 0 else "dk", 1)
    await asyncio.sleep(1.0)  # a sweep or two run meanwhile, with nothing to publish to
    nats_server.start()
    seen = await wait_for_ids(nats_server.url, wanted, timeout=60)
    assert len(wanted) == 50
    assert Counter(seen) == dict.fromkeys(wanted, 1)

    async def all_marked() -> bool:
        return not await unsent(db, wanted)

    await wait_for(all_marked)
