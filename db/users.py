"""A territory's user accounts. Callers pass a connection routed to the territory."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from db.models import users


@dataclass(frozen=True, slots=True)
class UserRecord:
    id: uuid.UUID
    territory_id: str
    username: str
    email: str
    display_name: str
    status: str
    identity_hash: bytes | None
    created_at: datetime

    def __repr__(self) -> str:  # keep personal data out of any accidental log line
        return f"UserRecord(id={self.id}, territory_id={self.territory_id!r})"


@dataclass(frozen=True, slots=True)
class Credentials:
    user: UserRecord
    password_hash: str

    def __repr__(self) -> str:
        return f"Credentials(user={self.user!r})"


_COLUMNS = (
    users.c.id,
    users.c.username,
    users.c.email,
    users.c.display_name,
    users.c.status,
    users.c.identity_hash,
    users.c.created_at,
)


def _record(territory_id: str, row: Sequence[object]) -> UserRecord:
    uid, username, email, display_name, status, ihash, created = row[:7]
    return UserRecord(
        id=uid,  # type: ignore[arg-type]
        territory_id=territory_id,
        username=str(username),
        email=str(email),
        display_name=str(display_name),
        status=str(status),
        identity_hash=None if ihash is None else bytes(ihash),  # type: ignore[call-overload]
        created_at=created,  # type: ignore[arg-type]
    )


async def insert_user(
    conn: AsyncConnection,
    *,
    user_id: uuid.UUID,
    username: str,
    email: str,
    password_hash: str,
    display_name: str,
    identity_hash: bytes,
) -> None:
    await conn.execute(
        insert(users).values(
            id=user_id,
            username=username,
            email=email,
            password_hash=password_hash,
            display_name=display_name,
            identity_hash=identity_hash,
        )
    )


async def taken(conn: AsyncConnection, *, username: str, email: str) -> bool:
    query = select(func.count()).where(
        or_(
            func.lower(users.c.username) == username.lower(),
            func.lower(users.c.email) == email.lower(),
        )
    )
    return bool((await conn.execute(query)).scalar_one())


async def lock_owner(conn: AsyncConnection, user_id: uuid.UUID) -> None:
    """Lock a person's row until the transaction ends: the lock every "at most N per person"
    limit counts under.

    Counting then inserting is a race (20 parallel ``addSocialLink`` from 45 left 55 links):
    each transaction counted 45. Under this lock the second counts after the first commits.
    ``FOR NO KEY UPDATE`` so it does not block inserts elsewhere that merely reference the row.
    """
    # SQLAlchemy spells FOR NO KEY UPDATE ``key_share=True``.
    query = select(users.c.id).where(users.c.id == user_id).with_for_update(key_share=True)
    await conn.execute(query)


async def set_password_hash(conn: AsyncConnection, user_id: uuid.UUID, password_hash: str) -> None:
    await conn.execute(
        update(users)
        .where(users.c.id == user_id)
        .values(password_hash=password_hash, updated_at=func.now())
    )


async def by_ids(
    conn: AsyncConnection, territory_id: str, ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, UserRecord]:
    result = await conn.execute(select(*_COLUMNS).where(users.c.id.in_(list(ids))))
    return {rec.id: rec for rec in (_record(territory_id, r) for r in result.all())}


async def by_identity_hash(
    conn: AsyncConnection, territory_id: str, identity_hash: bytes
) -> UserRecord | None:
    row = (
        await conn.execute(select(*_COLUMNS).where(users.c.identity_hash == identity_hash))
    ).first()
    return None if row is None else _record(territory_id, row)
