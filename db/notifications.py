"""A territory's notifications. Callers pass a connection already routed to the territory.

Written by the notifications consumer (events/notifier.py): ``insert`` skips a (recipient,
event) pair already stored, so a redelivered event changes nothing, and ``claim_due`` hands each
held push to exactly one sweeping process (``FOR UPDATE SKIP LOCKED``). Read by the API through
loaders (graph/loaders/notifications.py), one statement per batch.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, Integer, bindparam, func, or_, select, true, update
from sqlalchemy.dialects.postgresql import ARRAY, UUID
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncConnection

from db.models import notifications, profiles, users
from domain.notifications import NotificationKind

PageKey = tuple[uuid.UUID, bool, uuid.UUID | None, int]
"""(recipient, unread only, the notification id after which the page starts or None, rows)."""


@dataclass(frozen=True, slots=True)
class NotificationRecord:
    id: uuid.UUID
    user_id: uuid.UUID
    kind: NotificationKind
    subject: str
    actor: str | None
    created_at: datetime
    read_at: datetime | None


@dataclass(frozen=True, slots=True)
class NewNotification:
    """A row the consumer stores: ``push_after`` None never pushes; ``pushed_at`` set means the
    push is handed over in the same transaction (it was due at once)."""

    id: uuid.UUID
    user_id: uuid.UUID
    event_id: uuid.UUID
    kind: NotificationKind
    subject: str
    actor: str | None
    push_after: datetime | None
    pushed_at: datetime | None


@dataclass(frozen=True, slots=True)
class DuePush:
    """A stored notification whose live push is handed over now."""

    id: uuid.UUID
    user_id: uuid.UUID
    kind: NotificationKind


COLUMNS = (
    notifications.c.id,
    notifications.c.user_id,
    notifications.c.kind,
    notifications.c.subject,
    notifications.c.actor,
    notifications.c.created_at,
    notifications.c.read_at,
)


def _record(row: Sequence[Any]) -> NotificationRecord:
    return NotificationRecord(
        id=row[0],
        user_id=row[1],
        kind=NotificationKind(row[2]),
        subject=row[3],
        actor=row[4],
        created_at=row[5],
        read_at=row[6],
    )


# --- the consumer's writes


async def preferences_of(
    conn: AsyncConnection, user_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, Mapping[str, Any]]:
    """Stored notification settings of the ACTIVE accounts among ``user_ids`` ({} when never
    set); an unknown or closed account is absent, and gets no notification."""
    rows = await conn.execute(
        select(users.c.id, profiles.c.notification_preferences)
        .select_from(users.outerjoin(profiles, profiles.c.user_id == users.c.id))
        .where(users.c.id.in_(list(user_ids)), users.c.status == "active")
    )
    return {row[0]: row[1] or {} for row in rows}


async def insert(
    conn: AsyncConnection, rows: Sequence[NewNotification]
) -> tuple[int, list[DuePush]]:
    """Store ``rows``, skipping any (recipient, event) already stored; returns how many were
    inserted and those of them whose push is handed over now (``pushed_at`` set)."""
    if not rows:
        return 0, []
    result = await conn.execute(
        pg_insert(notifications)
        .values(
            [
                {
                    "id": r.id,
                    "user_id": r.user_id,
                    "event_id": r.event_id,
                    "kind": r.kind.value,
                    "subject": r.subject,
                    "actor": r.actor,
                    "push_after": r.push_after,
                    "pushed_at": r.pushed_at,
                }
                for r in rows
            ]
        )
        .on_conflict_do_nothing(constraint="uq_notifications_user_event")
        .returning(
            notifications.c.id,
            notifications.c.user_id,
            notifications.c.kind,
            notifications.c.pushed_at,
        )
    )
    inserted = result.all()
    due = [DuePush(row[0], row[1], NotificationKind(row[2])) for row in inserted if row[3]]
    return len(inserted), due


async def claim_due(conn: AsyncConnection, now: datetime, limit: int) -> list[DuePush]:
    """Mark up to ``limit`` held pushes due at ``now`` as handed over and return them; rows
    another process holds are skipped (it hands them over)."""
    due = (
        select(notifications.c.id)
        .where(notifications.c.pushed_at.is_(None), notifications.c.push_after <= now)
        .order_by(notifications.c.push_after)
        .limit(limit)
        .with_for_update(skip_locked=True)
        .scalar_subquery()
    )
    result = await conn.execute(
        update(notifications)
        .where(notifications.c.id.in_(due))
        .values(pushed_at=now)
        .returning(notifications.c.id, notifications.c.user_id, notifications.c.kind)
    )
    return [DuePush(row[0], row[1], NotificationKind(row[2])) for row in result]


# --- reads


_KEYS = (
    func.unnest(
        bindparam("users", type_=ARRAY(UUID(as_uuid=True))),
        bindparam("unread", type_=ARRAY(Boolean)),
        bindparam("afters", type_=ARRAY(UUID(as_uuid=True))),
        bindparam("limits", type_=ARRAY(Integer)),
    )
    .table_valued("user_id", "unread", "after_id", "lim", with_ordinality="idx")
    .render_derived(name="k")
)
_PAGE = (
    select(*COLUMNS)
    .where(
        notifications.c.user_id == _KEYS.c.user_id,
        or_(_KEYS.c.unread.is_(False), notifications.c.read_at.is_(None)),
        or_(_KEYS.c.after_id.is_(None), notifications.c.id < _KEYS.c.after_id),
    )
    .order_by(notifications.c.id.desc())
    .limit(_KEYS.c.lim)
    .lateral("page")
)
_PAGES = (
    select(_KEYS.c.idx, *_PAGE.c)
    .select_from(_KEYS.join(_PAGE, true()))
    .order_by(_KEYS.c.idx, _PAGE.c.id.desc())
)


async def pages(conn: AsyncConnection, keys: Sequence[PageKey]) -> list[list[NotificationRecord]]:
    """Pages of notifications, newest first (keyset on the time-ordered id), one per key, in ONE
    statement: a LATERAL join runs the page query once per key."""
    if not keys:
        return []
    params = {
        "users": [k[0] for k in keys],
        "unread": [k[1] for k in keys],
        "afters": [k[2] for k in keys],
        "limits": [k[3] for k in keys],
    }
    found: list[list[NotificationRecord]] = [[] for _ in keys]
    for row in await conn.execute(_PAGES, params):
        found[row[0] - 1].append(_record(row[1:]))
    return found


async def unread_counts(
    conn: AsyncConnection, user_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, int]:
    rows = await conn.execute(
        select(notifications.c.user_id, func.count())
        .where(notifications.c.user_id.in_(list(user_ids)), notifications.c.read_at.is_(None))
        .group_by(notifications.c.user_id)
    )
    return {row[0]: int(row[1]) for row in rows}


async def by_ids(
    conn: AsyncConnection, ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, NotificationRecord]:
    rows = await conn.execute(select(*COLUMNS).where(notifications.c.id.in_(list(ids))))
    return {r.id: r for r in (_record(row) for row in rows)}


# --- the owner's writes


async def owned(
    conn: AsyncConnection, user_id: uuid.UUID, ids: Sequence[uuid.UUID]
) -> set[uuid.UUID]:
    """Those of ``ids`` that are the user's notifications, locked until the transaction ends."""
    rows = await conn.execute(
        select(notifications.c.id)
        .where(notifications.c.user_id == user_id, notifications.c.id.in_(list(ids)))
        .with_for_update()
    )
    return {row[0] for row in rows}


async def mark_read(
    conn: AsyncConnection, user_id: uuid.UUID, ids: Sequence[uuid.UUID] | None
) -> list[uuid.UUID]:
    """Mark the user's unread notifications read: those of ``ids`` (others' ids are ignored), or
    all when ``ids`` is None; returns the ids it changed."""
    query = update(notifications).where(
        notifications.c.user_id == user_id, notifications.c.read_at.is_(None)
    )
    if ids is not None:
        query = query.where(notifications.c.id.in_(list(ids)))
    result = await conn.execute(query.values(read_at=func.now()).returning(notifications.c.id))
    return [row[0] for row in result]
