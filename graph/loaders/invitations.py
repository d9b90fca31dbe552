"""Loaders of the invitations area: invitations by id or by token hash, and their uses."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncConnection

from db import invitations as invitation_db
from db.invitations import InvitationRecord, InvitationUse
from graph.loaders.spec import Scope, TerritoryLoader


async def _by_ids(
    conn: AsyncConnection, scope: Scope, keys: list[uuid.UUID]
) -> list[InvitationRecord | None]:
    found = await invitation_db.by_ids(conn, scope.territory_id, keys)
    return [found.get(k) for k in keys]


async def _by_token_hashes(
    conn: AsyncConnection, scope: Scope, keys: list[bytes]
) -> list[InvitationRecord | None]:
    found = await invitation_db.by_token_hashes(conn, scope.territory_id, keys)
    return [found.get(k) for k in keys]


async def _uses(
    conn: AsyncConnection, scope: Scope, keys: list[uuid.UUID]
) -> list[Sequence[InvitationUse]]:
    found = await invitation_db.uses_of(conn, keys)
    return [found.get(k, ()) for k in keys]


INVITATION_BY_ID: TerritoryLoader[uuid.UUID, InvitationRecord | None] = TerritoryLoader(
    "invitations.by_id", _by_ids, missing=None
)
"""Unfiltered: only a territory's managers may read its invitations, which the reader checks."""

INVITATION_BY_TOKEN_HASH: TerritoryLoader[bytes, InvitationRecord | None] = TerritoryLoader(
    "invitations.by_token_hash", _by_token_hashes, missing=None
)
"""Keyed by ``secret_hash(token)``: the token routes to its territory, the hash finds the row."""

USES_OF_INVITATION: TerritoryLoader[uuid.UUID, Sequence[InvitationUse]] = TerritoryLoader(
    "invitations.uses", _uses, missing=()
)
"""Who registered with each invitation, oldest first."""
