"""The transactional outbox: event rows written with the change, claimed and marked by relays.

Every territory schema and ``global`` hold an ``outbox`` table (db/models.py). A change inserts its
events with :func:`insert` on its own open transaction, so the events exist exactly when the change
does; the ``pg_notify`` sent with them is delivered at commit only and wakes the relays at once.

A relay claims due rows with ``FOR UPDATE SKIP LOCKED`` and keeps them locked while it publishes,
then marks them sent (or failed, with backoff) in the same transaction: two relays never hold the
same row, and a relay that dies before committing releases its rows to the next one. Publishing
with the event id as ``Nats-Msg-Id`` makes that re-publication a no-op on the stream.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import Table, delete, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from db.models import GLOBAL_SCHEMA, global_outbox, outbox
from domain.events import Envelope
from domain.territories import schema_name

NOTIFY_CHANNEL = "unityplan_outbox"
"""``LISTEN`` channel; the payload is the schema whose outbox got rows (``global`` or
``territory_<id>``)."""

SENT_RETENTION = timedelta(days=1)
"""Sent rows are kept this long, then pruned: long enough to answer "was it published, when?"
while investigating, far shorter than the stream's own retention, which is what consumers
replay from."""

RETRY_BASE = timedelta(seconds=1)
RETRY_MAX = timedelta(minutes=5)
"""A failed publish is retried after 1 s, 2 s, 4 s, ... at most 5 minutes apart."""

ERROR_MAX = 200


def outbox_table(territory_id: str | None) -> Table:
    """The territory's outbox (routed to its schema by the connection), or ``global``'s for None."""
    return global_outbox if territory_id is None else outbox


def schema_of(territory_id: str | None) -> str:
    return GLOBAL_SCHEMA if territory_id is None else schema_name(territory_id)


def retry_delay(attempts: int) -> timedelta:
    """How long to wait after the ``attempts``-th failed publish of a row."""
    if attempts < 1:
        return timedelta(0)
    delay: timedelta = RETRY_BASE * (2 ** min(attempts - 1, 20))
    return min(RETRY_MAX, delay)


async def insert_events(
    conn: AsyncConnection, territory_id: str | None, envelopes: Sequence[Envelope]
) -> None:
    """Add ``envelopes`` to the outbox on ``conn``'s open transaction and wake the relays.

    ``territory_id`` None writes to ``global.outbox`` (global-only changes such as role grants).
    """
    if not envelopes:
        return
    await conn.execute(
        insert(outbox_table(territory_id)),
        [{"id": e.id, "subject": e.subject, "envelope": e.to_json()} for e in envelopes],
    )
    await conn.execute(select(func.pg_notify(NOTIFY_CHANNEL, schema_of(territory_id))))


@dataclass(frozen=True, slots=True)
class PendingEvent:
    """A claimed row: what to publish, and how often publishing it failed before."""

    id: uuid.UUID
    subject: str
    envelope: dict[str, Any]
    attempts: int


async def claim(conn: AsyncConnection, territory_id: str | None, limit: int) -> list[PendingEvent]:
    """Lock up to ``limit`` due unsent rows, oldest first, skipping rows another relay holds.

    The locks last until ``conn``'s transaction ends: mark the rows in it.
    """
    t = outbox_table(territory_id)
    rows = await conn.execute(
        select(t.c.id, t.c.subject, t.c.envelope, t.c.attempts)
        .where(t.c.sent_at.is_(None), t.c.next_attempt_at <= func.now())
        .order_by(t.c.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    return [PendingEvent(r.id, r.subject, r.envelope, r.attempts) for r in rows]


async def mark_sent(
    conn: AsyncConnection, territory_id: str | None, ids: Sequence[uuid.UUID]
) -> None:
    if not ids:
        return
    t = outbox_table(territory_id)
    await conn.execute(update(t).where(t.c.id.in_(ids)).values(sent_at=func.now(), last_error=None))


async def mark_failed(
    conn: AsyncConnection, territory_id: str | None, event: PendingEvent, error: str
) -> None:
    """Count a failed publish and schedule the next try with exponential backoff."""
    t = outbox_table(territory_id)
    attempts = event.attempts + 1
    await conn.execute(
        update(t)
        .where(t.c.id == event.id)
        .values(
            attempts=attempts,
            next_attempt_at=func.now() + retry_delay(attempts),
            last_error=error[:ERROR_MAX],
        )
    )


async def prune_sent(
    conn: AsyncConnection, territory_id: str | None, older_than: timedelta = SENT_RETENTION
) -> int:
    """Delete rows sent more than ``older_than`` ago; returns how many."""
    t = outbox_table(territory_id)
    result = await conn.execute(delete(t).where(t.c.sent_at < func.now() - older_than))
    return result.rowcount or 0


async def unsent_count(conn: AsyncConnection, territory_id: str | None) -> int:
    """Rows not yet published (a backlog gauge for operators and tests)."""
    t = outbox_table(territory_id)
    found = await conn.execute(select(func.count()).select_from(t).where(t.c.sent_at.is_(None)))
    return int(found.scalar_one())
