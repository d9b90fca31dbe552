"""The transactional outbox (t0005, g0005; db/events.py, events/relay.py).

One table per territory schema and one in ``global``, same columns: an event row is written in the
transaction of the change it reports and published to NATS JetStream by a relay afterwards.
``envelope`` is ``domain.events.Envelope`` as JSON: ids and enum values only, never personal data.
"""

from __future__ import annotations

from sqlalchemy import Column, DateTime, Index, Integer, MetaData, String, Table, func, text
from sqlalchemy.dialects.postgresql import JSONB, UUID

from db.models.base import created_at, global_metadata, territory_metadata


def _outbox(metadata: MetaData) -> Table:
    return Table(
        "outbox",
        metadata,
        # The event id (UUIDv7, time-ordered): the order rows are published in, and Nats-Msg-Id.
        Column("id", UUID(as_uuid=True), primary_key=True),
        Column("subject", String(200), nullable=False),
        Column("envelope", JSONB, nullable=False),
        created_at(),
        # NULL until JetStream acknowledged it; sent rows are pruned after a while.
        Column("sent_at", DateTime(timezone=True), nullable=True),
        # Failed publishes: how many, when to try again (backoff), and the last error's class.
        Column("attempts", Integer, nullable=False, server_default=text("0")),
        Column(
            "next_attempt_at", DateTime(timezone=True), nullable=False, server_default=func.now()
        ),
        Column("last_error", String(200), nullable=True),
        # What a relay claims: due unsent rows, oldest first; and what pruning deletes.
        Index(
            "ix_outbox_pending", "next_attempt_at", "id", postgresql_where=text("sent_at IS NULL")
        ),
        Index("ix_outbox_sent_at", "sent_at", postgresql_where=text("sent_at IS NOT NULL")),
    )


outbox = _outbox(territory_metadata)
global_outbox = _outbox(global_metadata)
