"""Refresh sessions in ``global.sessions``: a row per refresh token; a login's rows share a family.

A refresh marks its row ``rotated_at`` and inserts the next row of the family. A row presented
again after rotation is a stolen-token signal: the whole family is revoked.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from db.models import sessions


@dataclass(frozen=True, slots=True)
class SessionRow:
    id: uuid.UUID
    identity_hash: bytes
    family_id: uuid.UUID
    expires_at: datetime
    rotated_at: datetime | None
    revoked_at: datetime | None


async def create(
    conn: AsyncConnection,
    *,
    identity_hash: bytes,
    family_id: uuid.UUID,
    refresh_token_hash: bytes,
    expires_at: datetime,
) -> uuid.UUID:
    session_id = uuid.uuid4()
    await conn.execute(
        insert(sessions).values(
            id=session_id,
            identity_hash=identity_hash,
            family_id=family_id,
            refresh_token_hash=refresh_token_hash,
            expires_at=expires_at,
        )
    )
    return session_id


async def lock_by_token_hash(conn: AsyncConnection, token_hash: bytes) -> SessionRow | None:
    """The row of a refresh token, locked so concurrent refreshes of it serialise."""
    row = (
        await conn.execute(
            select(
                sessions.c.id,
                sessions.c.identity_hash,
                sessions.c.family_id,
                sessions.c.expires_at,
                sessions.c.rotated_at,
                sessions.c.revoked_at,
            )
            .where(sessions.c.refresh_token_hash == token_hash)
            .with_for_update()
        )
    ).first()
    if row is None:
        return None
    sid, ihash, family, expires, rotated, revoked = row
    return SessionRow(sid, bytes(ihash), family, expires, rotated, revoked)


async def mark_rotated(conn: AsyncConnection, session_id: uuid.UUID) -> None:
    await conn.execute(
        update(sessions).where(sessions.c.id == session_id).values(rotated_at=func.now())
    )


async def revoke_family(
    conn: AsyncConnection, family_id: uuid.UUID, identity_hash: bytes | None = None
) -> int:
    query = update(sessions).where(
        sessions.c.family_id == family_id, sessions.c.revoked_at.is_(None)
    )
    if identity_hash is not None:
        query = query.where(sessions.c.identity_hash == identity_hash)
    result = await conn.execute(query.values(revoked_at=func.now()))
    return int(result.rowcount)


async def revoke_all(conn: AsyncConnection, identity_hash: bytes) -> list[uuid.UUID]:
    """Revoke every live row of an identity; returns the families touched."""
    result = await conn.execute(
        update(sessions)
        .where(sessions.c.identity_hash == identity_hash, sessions.c.revoked_at.is_(None))
        .values(revoked_at=func.now())
        .returning(sessions.c.family_id)
    )
    return sorted(set(result.scalars()))


async def family_alive(conn: AsyncConnection, family_id: uuid.UUID, identity_hash: bytes) -> bool:
    """Whether a session (a refresh family) of ``identity_hash`` is still live: some row of it
    is not revoked. The durable answer behind the Redis cache of graph/server/auth.py."""
    query = select(sessions.c.id).where(
        sessions.c.family_id == family_id,
        sessions.c.identity_hash == identity_hash,
        sessions.c.revoked_at.is_(None),
    )
    return (await conn.execute(query.limit(1))).first() is not None
