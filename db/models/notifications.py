"""A person's notifications (t0006_notifications; db/notifications.py, events/notifier.py).

One row per (recipient, event): the unique key is what makes the consumer idempotent, a
redelivered event inserts nothing. ``subject`` and ``actor`` are global ids (what the
notification is about, who caused it); no text is copied from the event, there is none.
"""

from __future__ import annotations

from sqlalchemy import Column, DateTime, Index, String, Table, UniqueConstraint, text
from sqlalchemy.dialects.postgresql import UUID

from db.models.base import created_at, owned_by_user, territory_metadata

notifications = Table(
    "notifications",
    territory_metadata,
    # UUIDv7: newest first is ORDER BY id DESC, and the id alone is the keyset cursor.
    Column("id", UUID(as_uuid=True), primary_key=True),
    owned_by_user("user_id"),
    Column("event_id", UUID(as_uuid=True), nullable=False),
    Column("kind", String(64), nullable=False),
    Column("subject", String(200), nullable=False),
    Column("actor", String(200), nullable=True),
    created_at(),
    Column("read_at", DateTime(timezone=True), nullable=True),
    # When to push it live (NULL: never, push is off); pushed_at is set when it was handed over.
    Column("push_after", DateTime(timezone=True), nullable=True),
    Column("pushed_at", DateTime(timezone=True), nullable=True),
    UniqueConstraint("user_id", "event_id", name="uq_notifications_user_event"),
    Index("ix_notifications_user_id", "user_id", "id"),
    Index("ix_notifications_unread", "user_id", "id", postgresql_where=text("read_at IS NULL")),
    Index(
        "ix_notifications_push_due",
        "push_after",
        postgresql_where=text("pushed_at IS NULL AND push_after IS NOT NULL"),
    ),
)
