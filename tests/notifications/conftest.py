"""Helpers of the notifications tests: the consumer's apply step on the test database, without
NATS (apply reads and writes PostgreSQL only), and reading a person's outbox of pushes."""

from __future__ import annotations

import tempfile
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from db.engines import Database
from db.models import outbox
from domain.events import Envelope, Event, NotificationCreated, seal
from events.connection import NatsLink
from events.notifier import Notifier
from events.streams import StreamSpec
from graph import ids
from tests.authkit import server_of
from tests.events.conftest import NatsServer


class Clock:
    """An injectable clock: ``now`` until moved."""

    def __init__(self, now: datetime | None = None) -> None:
        self.now = now or datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now


def offline_notifier(db: Database, clock: Callable[[], datetime] | None = None) -> Notifier:
    """A notifier whose NATS link never connects: for ``apply`` and ``sweep``, which do not
    use it."""
    link = NatsLink("nats://127.0.0.1:9", name="offline", stream=StreamSpec())
    return Notifier(db, link, ids.encode, clock=clock or Clock())


def envelope_of(event: Event, actor: str | None = None) -> Envelope:
    return seal(event, actor=actor, node_id=ids.encode)


def user_key(user_id: str) -> uuid.UUID:
    return uuid.UUID(ids.decode(user_id).key)


async def pushes_of(db: Database, territory: str, user_id: str) -> list[str]:
    """Notification ids whose live push was handed over (``notification.created`` outbox rows)."""
    async with db.connect(server_of(territory), territory) as conn:
        rows = await conn.execute(
            select(outbox.c.envelope)
            .where(outbox.c.subject == f"unityplan.{territory}.{NotificationCreated.TYPE}")
            .order_by(outbox.c.id)
        )
        return [
            row[0]["payload"]["notification_id"]
            for row in rows
            if row[0]["subjects"]["user"] == user_id
        ]


@pytest.fixture
def nats_server() -> Iterator[NatsServer]:
    """A NATS server of the test's own (the live tests' durable consumer starts fresh on it)."""
    with tempfile.TemporaryDirectory(prefix="unityplan-nats-") as directory:
        server = NatsServer(Path(directory))
        server.start()
        try:
            yield server
        finally:
            server.stop()
