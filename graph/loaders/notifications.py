"""Batched reads of a person's notifications, one statement per batch and territory."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncConnection

from db import notifications as notification_db
from db.notifications import NotificationRecord, PageKey
from graph.loaders.spec import Scope, TerritoryLoader


async def _pages(
    conn: AsyncConnection, _scope: Scope, keys: list[PageKey]
) -> list[Sequence[NotificationRecord]]:
    return list(await notification_db.pages(conn, keys))


async def _unread(conn: AsyncConnection, _scope: Scope, keys: list[uuid.UUID]) -> list[int]:
    found = await notification_db.unread_counts(conn, keys)
    return [found.get(k, 0) for k in keys]


async def _by_ids(
    conn: AsyncConnection, _scope: Scope, keys: list[uuid.UUID]
) -> list[NotificationRecord | None]:
    found = await notification_db.by_ids(conn, keys)
    return [found.get(k) for k in keys]


NOTIFICATION_PAGE: TerritoryLoader[PageKey, Sequence[NotificationRecord]] = TerritoryLoader(
    "notifications.page", _pages, missing=()
)
"""A page of a person's notifications, newest first, keyed by (user, unread only, after id,
limit + 1). Only the owner may read it; that is decided before (``Caller.is_account``)."""

UNREAD_COUNT: TerritoryLoader[uuid.UUID, int] = TerritoryLoader(
    "notifications.unread_count", _unread, missing=0
)
"""How many unread notifications a person has."""

NOTIFICATION_BY_ID: TerritoryLoader[uuid.UUID, NotificationRecord | None] = TerritoryLoader(
    "notifications.by_id", _by_ids, missing=None
)
"""Any notification by id: whoever reads it checks it is the caller's own."""
