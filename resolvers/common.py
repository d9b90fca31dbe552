"""Small helpers every mutation resolver shares: the caller's territory and ids it names."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy.ext.asyncio import AsyncConnection

from domain.errors import BadUserInput, NotFound
from graph import ids
from graph.context import Info


def actor_identity(info: Info) -> bytes:
    """The signed-in caller's identity hash: who did it, in audit entries and grants."""
    territory_id, user_id = info.context.caller.account()
    return info.context.services.config.identity(territory_id, user_id)


async def server_of(info: Info, territory_id: str) -> str:
    """The database server of an active territory; NOT_FOUND otherwise."""
    record = await info.context.loaders.active_territory(territory_id)
    if record is None:
        raise NotFound(f"No territory '{territory_id}'.")
    return record.db_server


@asynccontextmanager
async def territory_transaction(info: Info, territory_id: str) -> AsyncIterator[AsyncConnection]:
    """ONE transaction in the territory's schema: each mutation commits all or nothing."""
    server = await server_of(info, territory_id)
    async with info.context.db.transaction(server, territory_id) as conn:
        yield conn


def key_of(value: str, *type_names: str) -> tuple[str, uuid.UUID]:
    """(territory, uuid) of a global id of one of ``type_names``; BAD_USER_INPUT otherwise."""
    key = ids.decode(value)
    if key.type_name not in type_names:
        raise BadUserInput(f"Expected the id of a {' or '.join(type_names)}.")
    return key.territory_id, ids.parse_uuid(key.key)


def person_of(value: str) -> tuple[str, uuid.UUID]:
    """A person named by their ``User`` or ``Profile`` id (both carry territory and user id)."""
    return key_of(value, "User", "Profile")
