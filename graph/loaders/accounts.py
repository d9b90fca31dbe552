"""Loaders of the accounts area: a territory's user records by id."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncConnection

from db import users as user_db
from db.users import UserRecord
from graph.loaders.spec import Scope, TerritoryLoader


async def _users(
    conn: AsyncConnection, scope: Scope, keys: list[uuid.UUID]
) -> list[UserRecord | None]:
    found = await user_db.by_ids(conn, scope.territory_id, keys)
    return [found.get(k) for k in keys]


USER_BY_ID: TerritoryLoader[uuid.UUID, UserRecord | None] = TerritoryLoader(
    "accounts.user_by_id", _users, missing=None
)
"""Any status: who may see the account, and whether an inactive one counts, is the reader's call."""
