"""The outbox relay: publishes committed event rows to JetStream, exactly once on the stream.

It wakes on the ``pg_notify`` a change sends at commit (one ``LISTEN`` connection per database
server) and sweeps every outbox (each territory schema on every server, and ``global``) every few
seconds, which covers notifications missed while it was not listening and rows due for a retry.

Per outbox it claims a batch (``FOR UPDATE SKIP LOCKED``), publishes each row with
``Nats-Msg-Id`` = event id, waits for the acks and marks the rows sent in the same transaction.
Any number of relays (every API replica, ``unityplan relay`` processes) can run: a locked row is
skipped by the others, and a relay that dies after publishing but before committing leaves its
rows to the next one, whose re-publication the stream drops as a duplicate (duplicate window,
events/streams.py). Guarantee: at-least-once publication, exactly once on the stream within the
window.

While NATS is down the relay claims nothing (rows keep their place, no attempts are spent) and
resumes when the connection is back, without a restart. A row whose publish fails while connected
is retried with exponential backoff (db/events.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta

import asyncpg
import orjson
from nats.js.api import PubAck
from sqlalchemy.exc import DBAPIError, ProgrammingError

from db import events as outbox_db
from db import territories as registry
from db.engines import Database, async_url
from db.models import GLOBAL_SCHEMA
from domain.errors import BadUserInput, Unavailable
from domain.territories import SCHEMA_PREFIX, validate_territory_id
from events.connection import NatsLink
from unityplan.settings import MAIN_SERVER

logger = logging.getLogger(__name__)

LISTEN_DELAY_MAX = 30.0
UNDEFINED_TABLE = "42P01"


@dataclass(frozen=True, slots=True)
class OutboxLocation:
    """One outbox: a territory's schema on its server, or ``global`` (territory_id None)."""

    server: str
    territory_id: str | None

    def __str__(self) -> str:
        return f"{self.server}/{outbox_db.schema_of(self.territory_id)}"

    @property
    def sort_key(self) -> tuple[str, str]:
        return self.server, self.territory_id or ""


@dataclass(frozen=True, slots=True)
class RelayOptions:
    batch_size: int = 200
    """Rows claimed (and locked) per transaction."""
    sweep_interval: float = 5.0
    """Seconds between sweeps of every outbox (notifications make the usual case immediate)."""
    publish_timeout: float = 5.0
    """Seconds to wait for JetStream's acks of one batch; unacked rows are retried later."""
    prune_interval: float = 600.0
    sent_retention: timedelta = outbox_db.SENT_RETENTION


@dataclass
class RelayStats:
    """Counters since start (tests, logs)."""

    published: int = 0
    duplicates: int = 0
    failed: int = 0
    rounds: int = 0
    errors: list[str] = field(default_factory=list)


class PublishFailed(Exception):
    """Some rows of a batch were not acknowledged: stop this round, back off."""

    def __init__(self, message: str, *, no_stream: bool) -> None:
        super().__init__(message)
        # Nothing listens on the subjects: the stream is gone and must be made again.
        self.no_stream = no_stream


NO_STREAM = {"NoRespondersError", "NoStreamResponseError"}


class Relay:
    def __init__(self, db: Database, link: NatsLink, options: RelayOptions | None = None) -> None:
        self._db = db
        self._link = link
        self.options = options or RelayOptions()
        self.stats = RelayStats()
        self._due: set[OutboxLocation] = set()
        self._sweep_now = True
        self._wakeup = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        link.on_ready(self.wake_all)

    # --- lifecycle

    def start(self) -> None:
        if self._tasks:
            return
        self._tasks.append(asyncio.create_task(self._work(), name="outbox-relay"))
        for server in self._db.server_keys:
            self._tasks.append(asyncio.create_task(self._listen(server), name=f"listen:{server}"))

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks.clear()

    def wake(self, location: OutboxLocation) -> None:
        self._due.add(location)
        self._wakeup.set()

    def wake_all(self) -> None:
        self._sweep_now = True
        self._wakeup.set()

    # --- the loop

    async def _work(self) -> None:
        next_sweep = 0.0
        next_prune = time.monotonic() + self.options.prune_interval
        backoff, retry_at = 0.0, 0.0
        while True:
            self._wakeup.clear()
            now = time.monotonic()
            if self._sweep_now or now >= next_sweep:
                self._sweep_now = False
                next_sweep = now + self.options.sweep_interval
                with _logged("listing outboxes"):
                    self._due |= set(await self.locations())
            if self._due and self._link.is_connected and now >= retry_at:
                try:
                    await self._round()
                    backoff = 0.0
                except PublishFailed as failure:
                    backoff = min(max(backoff * 2, 0.5), 30.0)
                    retry_at = time.monotonic() + backoff
                    logger.warning("%s; retrying in %.1f s", failure, backoff)
                    if failure.no_stream:
                        await self._link.restore_stream()
            if now >= next_prune:
                next_prune = now + self.options.prune_interval
                await self.prune()
            deadline = next_sweep
            if self._due and retry_at > time.monotonic():
                deadline = min(deadline, retry_at)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wakeup.wait(), max(0.0, deadline - time.monotonic()))

    async def _round(self) -> None:
        due, self._due = sorted(self._due, key=lambda loc: loc.sort_key), set()
        self.stats.rounds += 1
        for index, location in enumerate(due):
            try:
                await self.drain(location)
            except PublishFailed:
                self._due |= set(due[index:])
                raise
            except (DBAPIError, OSError, Unavailable) as error:
                logger.warning("outbox %s: %s", location, error)
                self.stats.errors.append(f"{location}: {type(error).__name__}")

    async def locations(self) -> list[OutboxLocation]:
        """Every outbox this process can reach: ``global`` and each registered territory."""
        async with self._db.connect(MAIN_SERVER) as conn:
            records = await registry.all_records(conn)
        known = set(self._db.server_keys)
        found = [OutboxLocation(MAIN_SERVER, None)]
        found += [OutboxLocation(r.db_server, r.id) for r in records if r.db_server in known]
        return found

    async def drain(self, location: OutboxLocation) -> int:
        """Publish every due row of one outbox; returns how many were published."""
        total = 0
        tid = location.territory_id
        while True:
            try:
                async with self._db.transaction(location.server, tid) as conn:
                    rows = await outbox_db.claim(conn, tid, self.options.batch_size)
                    if not rows:
                        return total
                    failed = await self._publish(rows)
                    await outbox_db.mark_sent(conn, tid, [r.id for r in rows if r.id not in failed])
                    for row in rows:
                        if row.id in failed:
                            await outbox_db.mark_failed(conn, tid, row, failed[row.id])
            except ProgrammingError as error:
                if getattr(error.orig, "sqlstate", None) == UNDEFINED_TABLE:
                    return total  # a territory not (yet) migrated to the outbox revision
                raise
            total += len(rows) - len(failed)
            if failed:
                self.stats.failed += len(failed)
                raise PublishFailed(
                    f"{len(failed)} of {len(rows)} events in {location} not published",
                    no_stream=bool(NO_STREAM & set(failed.values())),
                )
            if len(rows) < self.options.batch_size:
                return total

    async def _publish(self, rows: list[outbox_db.PendingEvent]) -> dict[object, str]:
        """Publish ``rows`` in order without waiting for each ack; returns id -> error."""
        js = self._link.js
        failed: dict[object, str] = {}
        pending: dict[asyncio.Future[PubAck], outbox_db.PendingEvent] = {}
        for row in rows:
            try:
                future = await js.publish_async(
                    row.subject,
                    orjson.dumps(row.envelope),
                    headers={"Nats-Msg-Id": str(row.id)},
                )
            except Exception as error:  # the connection's state says why
                failed[row.id] = type(error).__name__
                continue
            pending[future] = row
        if pending:
            done, not_done = await asyncio.wait(pending, timeout=self.options.publish_timeout)
            for future in not_done:
                future.cancel()
                failed[pending[future].id] = "ack timeout"
            for future in done:
                problem = future.exception()
                if problem is not None:
                    failed[pending[future].id] = type(problem).__name__
                    continue
                self.stats.published += 1
                if future.result().duplicate:
                    self.stats.duplicates += 1
        return failed

    async def prune(self) -> int:
        """Delete sent rows older than the retention from every outbox."""
        removed = 0
        with _logged("pruning outboxes"):
            for location in await self.locations():
                with _logged(f"pruning {location}"):
                    async with self._db.transaction(location.server, location.territory_id) as c:
                        removed += await outbox_db.prune_sent(
                            c, location.territory_id, self.options.sent_retention
                        )
        return removed

    # --- LISTEN

    async def _listen(self, server: str) -> None:
        """Hold a LISTEN connection to ``server``, reconnecting with backoff when it drops."""
        delay = 0.5
        dsn = async_url(self._db.dsn(server)).set(drivername="postgresql")
        while True:
            try:
                conn = await asyncpg.connect(dsn.render_as_string(hide_password=False))
            except (OSError, asyncpg.PostgresError) as error:
                logger.warning("LISTEN on %s failed (%s); retrying in %.1f s", server, error, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, LISTEN_DELAY_MAX)
                continue
            delay = 0.5
            closed = asyncio.Event()
            try:
                conn.add_termination_listener(lambda _c, closed=closed: closed.set())
                await conn.add_listener(
                    outbox_db.NOTIFY_CHANNEL,
                    lambda _c, _pid, _channel, payload: self._notified(server, payload),
                )
                self.wake_all()  # rows committed while nobody listened
                await closed.wait()
            finally:
                with contextlib.suppress(Exception):
                    await conn.close()

    def _notified(self, server: str, schema: object) -> None:
        if schema == GLOBAL_SCHEMA and server == MAIN_SERVER:
            self.wake(OutboxLocation(server, None))
            return
        if isinstance(schema, str) and schema.startswith(SCHEMA_PREFIX):
            try:
                territory_id = validate_territory_id(schema.removeprefix(SCHEMA_PREFIX))
            except BadUserInput:
                return
            self.wake(OutboxLocation(server, territory_id))


@contextlib.contextmanager
def _logged(what: str) -> Iterator[None]:
    """Log a database failure of a periodic task and carry on: the next sweep tries again."""
    try:
        yield
    except (DBAPIError, OSError, Unavailable) as error:
        logger.warning("%s failed: %s", what, error)
