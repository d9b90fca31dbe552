"""The notifications consumer: turns events into per-person notifications, at most once each.

A JetStream durable pull consumer (:data:`DURABLE`) reads every event of the stream; every API
process (``EVENTS_NOTIFIER``) and every ``unityplan notifier`` process pulls from the SAME durable
consumer, so the server hands each event to one of them. For each event it asks the event class
who should hear of it (``Event.notify``, domain/events.py), drops the actor, and in each
recipient's territory stores what their preferences allow (domain/notifications.py) in ONE
transaction, then acknowledges. Idempotent by event id: the table's unique (recipient, event) key
makes a redelivery (a process that died before its ack, an ack lost on the way) insert nothing.

Live push: a notification due at once is marked pushed and a ``notification.created`` event is
written to the territory's outbox in the same transaction; the relay publishes it and every API
process's fan-out hands it to that person's ``notificationAdded`` subscriptions. One held by quiet
hours keeps ``push_after``; a periodic sweep (here too) hands over those that came due, each to
one process (``FOR UPDATE SKIP LOCKED``). The push therefore shares the outbox's guarantees: it
happens if and only if the notification is stored (or comes due), once.

The clock is injectable so tests can move through quiet hours.
"""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

import orjson
from nats.aio.msg import Msg
from nats.errors import TimeoutError as NatsTimeout
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy
from sqlalchemy.exc import DBAPIError, ProgrammingError
from sqlalchemy.ext.asyncio import AsyncConnection

from db import events as outbox_db
from db import notifications as notification_db
from db import territories as registry
from db.engines import Database
from db.notifications import DuePush, NewNotification
from domain.errors import Unavailable
from domain.events import (
    SUBJECT_PREFIX,
    Envelope,
    NotificationCreated,
    event_of,
    new_event_id,
    seal,
)
from domain.notifications import NodeIdEncoder, Recipient, addressed, delivery
from domain.profiles import NotificationPreferences
from domain.territories import TerritoryStatus
from events.connection import NatsLink
from unityplan.settings import MAIN_SERVER

logger = logging.getLogger(__name__)

DURABLE = "unityplan-notifier"
"""The durable consumer every notifier process shares."""

UNDEFINED_TABLE = "42P01"
STOP_TIMEOUT = 5.0

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class NotifierOptions:
    durable: str = DURABLE
    batch_size: int = 50
    """Events pulled per request."""
    fetch_timeout: float = 1.0
    """Seconds a pull waits for events before asking again."""
    ack_wait: float = 30.0
    """Seconds the server waits for an ack before redelivering the event to another process."""
    retry_delay: float = 2.0
    """Seconds before an event whose notifications could not be stored is delivered again."""
    max_deliver: int = 50
    """Deliveries of one event before the server gives up on it (a poison event must not be
    retried for ever; with ``retry_delay`` that is minutes of a database outage)."""
    sweep_interval: float = 15.0
    """Seconds between sweeps for held pushes that came due."""
    sweep_batch: int = 500


@dataclass
class NotifierStats:
    """Counters since start (tests, logs)."""

    events: int = 0
    stored: int = 0
    pushed: int = 0
    failed: int = 0


class Notifier:
    def __init__(
        self,
        db: Database,
        link: NatsLink,
        node_id: NodeIdEncoder,
        options: NotifierOptions | None = None,
        clock: Clock = utc_now,
    ) -> None:
        self._db = db
        self._link = link
        self._node_id = node_id
        self.options = options or NotifierOptions()
        self.clock = clock
        self.stats = NotifierStats()
        self._tasks: list[asyncio.Task[None]] = []
        self._stopping = False

    # --- lifecycle

    def start(self) -> None:
        if self._tasks:
            return
        self._tasks.append(asyncio.create_task(self._consume(), name="notifier"))
        self._tasks.append(asyncio.create_task(self._sweeps(), name="notifier-sweep"))

    async def stop(self) -> None:
        """Cancel the loops and wait for them, at most ``STOP_TIMEOUT`` seconds: nats-py may turn
        a cancellation inside a pull into another error, so the loops also check the flag."""
        self._stopping = True
        for task in self._tasks:
            task.cancel()
        if self._tasks:
            _, pending = await asyncio.wait(self._tasks, timeout=STOP_TIMEOUT)
            if pending:
                logger.warning("notifier: %d task(s) did not stop in time", len(pending))
        self._tasks.clear()

    # --- consuming

    async def _consume(self) -> None:
        """Pull from the durable consumer until stopped, re-binding after any NATS failure."""
        while not self._stopping:
            try:
                await self._link.wait_connected()
                pull = await self._link.js.pull_subscribe(
                    f"{SUBJECT_PREFIX}.>",
                    durable=self.options.durable,
                    stream=self._link.stream.name,
                    config=ConsumerConfig(
                        # Created once; a new consumer reads what the stream still retains.
                        deliver_policy=DeliverPolicy.ALL,
                        ack_policy=AckPolicy.EXPLICIT,
                        ack_wait=self.options.ack_wait,
                        max_deliver=self.options.max_deliver,
                    ),
                )
                while not self._stopping:
                    try:
                        messages = await pull.fetch(
                            self.options.batch_size, timeout=self.options.fetch_timeout
                        )
                    except NatsTimeout:
                        continue
                    for message in messages:
                        await self._handle(message)
            except asyncio.CancelledError:
                raise
            except Exception as error:  # NATS went away or the consumer was lost: bind again
                if self._stopping:
                    return
                logger.warning("notifications consumer: %s; retrying", error)
                await asyncio.sleep(1.0)

    async def _handle(self, message: Msg) -> None:
        try:
            envelope = Envelope.from_json(orjson.loads(message.data))
        except (ValueError, KeyError, TypeError):
            logger.warning("notifier skipped a malformed event on %s", message.subject)
            await message.term()
            return
        try:
            await self.apply(envelope)
        except (DBAPIError, OSError, Unavailable) as error:
            self.stats.failed += 1
            logger.warning("notifications of event %s not stored: %s", envelope.id, error)
            await message.nak(delay=self.options.retry_delay)
            return
        except Exception:  # a bug must not stop the consumer: this event is retried, then dropped
            self.stats.failed += 1
            logger.exception("notifications of event %s failed", envelope.id)
            await message.nak(delay=self.options.retry_delay)
            return
        await message.ack()

    async def apply(self, envelope: Envelope) -> int:
        """Store the notifications ``envelope`` causes (once: a repeat stores nothing); returns
        how many were stored now."""
        self.stats.events += 1
        event = event_of(envelope)
        if event is None:
            return 0
        recipients = addressed(event.notify(), envelope.actor, self._node_id)
        if not recipients:
            return 0
        grouped: dict[str, list[Recipient]] = defaultdict(list)
        for recipient in recipients:
            grouped[recipient.territory_id].append(recipient)
        async with self._db.connect(MAIN_SERVER) as conn:
            territories = await registry.by_ids(conn, list(grouped))
        stored = 0
        for territory_id, group in grouped.items():
            record = territories.get(territory_id)
            if record is None or record.status != TerritoryStatus.ACTIVE:
                continue  # a forged or closed territory: nobody to notify there
            stored += await self._store(record.db_server, territory_id, envelope, group)
        self.stats.stored += stored
        return stored

    async def _store(
        self, server: str, territory_id: str, envelope: Envelope, group: list[Recipient]
    ) -> int:
        now = self.clock()
        try:
            async with self._db.transaction(server, territory_id) as conn:
                stored_prefs = await notification_db.preferences_of(
                    conn, [r.user_id for r in group]
                )
                rows = []
                for r in group:
                    prefs = stored_prefs.get(r.user_id)
                    if prefs is None:
                        continue  # no such active account
                    plan = delivery(NotificationPreferences.from_json(prefs), r.kind, now)
                    if not plan.stored:
                        continue
                    due = plan.push_after is not None and plan.push_after <= now
                    rows.append(
                        NewNotification(
                            id=new_event_id(),
                            user_id=r.user_id,
                            event_id=envelope.id,
                            kind=r.kind,
                            subject=self._node_id(
                                r.subject.type_name, r.subject.territory_id, r.subject.key
                            ),
                            actor=envelope.actor,
                            push_after=plan.push_after,
                            pushed_at=now if due else None,
                        )
                    )
                inserted, due_now = await notification_db.insert(conn, rows)
                await self._hand_over(conn, territory_id, due_now)
        except ProgrammingError as error:
            if getattr(error.orig, "sqlstate", None) == UNDEFINED_TABLE:
                return 0  # a territory not (yet) migrated to the notifications revision
            raise
        return inserted

    async def _hand_over(
        self, conn: AsyncConnection, territory_id: str, due: list[DuePush]
    ) -> None:
        """Write a ``notification.created`` event per push into the territory's outbox, on the
        transaction that stored or claimed the rows: published if and only if it commits."""
        envelopes = [
            seal(
                NotificationCreated(
                    territory_id=territory_id, notification_id=p.id, user_id=p.user_id, kind=p.kind
                ),
                actor=None,
                node_id=self._node_id,
            )
            for p in due
        ]
        await outbox_db.insert_events(conn, territory_id, envelopes)
        self.stats.pushed += len(envelopes)

    # --- held pushes

    async def _sweeps(self) -> None:
        while not self._stopping:
            await asyncio.sleep(self.options.sweep_interval)
            try:
                await self.sweep()
            except (DBAPIError, OSError, Unavailable) as error:
                logger.warning("notifications sweep failed: %s", error)

    async def sweep(self) -> int:
        """Hand over every held push due by now in every territory; returns how many."""
        now = self.clock()
        async with self._db.connect(MAIN_SERVER) as conn:
            records = await registry.all_records(conn)
        known = set(self._db.server_keys)
        handed = 0
        for record in records:
            if record.status != TerritoryStatus.ACTIVE or record.db_server not in known:
                continue
            handed += await self._sweep_one(record.db_server, record.id, now)
        return handed

    async def _sweep_one(self, server: str, territory_id: str, now: datetime) -> int:
        handed = 0
        while True:
            try:
                async with self._db.transaction(server, territory_id) as conn:
                    due = await notification_db.claim_due(conn, now, self.options.sweep_batch)
                    await self._hand_over(conn, territory_id, due)
            except ProgrammingError as error:
                if getattr(error.orig, "sqlstate", None) == UNDEFINED_TABLE:
                    return handed
                raise
            handed += len(due)
            if len(due) < self.options.sweep_batch:
                return handed
