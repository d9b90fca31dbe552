"""Loaders of the roles area: active role grants, read fresh from ``global``."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncConnection

from db import roles as role_db
from domain.roles import Grant
from graph.loaders.spec import GlobalLoader


async def _grants(conn: AsyncConnection, keys: list[bytes]) -> list[list[Grant]]:
    found = await role_db.active_grants(conn, keys)
    return [found.get(k, []) for k in keys]


GRANTS_OF_IDENTITY: GlobalLoader[bytes, list[Grant]] = GlobalLoader(
    "roles.grants_of_identity", _grants
)
"""Keyed by identity hash: ``global`` knows no user ids, only their keyed hashes."""
