"""A user's social groups (Family, Friends, custom) and their members, in the owner's territory.

Members are named by (territory, user id) so people of any territory can be in a group without
their data being copied here. Family and Friends are created on first use (``ensure_defaults``).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from db.models import social_group_members, social_groups
from db.users import lock_owner
from domain.errors import AlreadyExists

DEFAULT_GROUPS = (("family", "Family"), ("friends", "Friends"))
_DEFAULT_NAMESPACE = uuid.UUID("5b0c3c52-9d1e-4d55-8a3e-6f1f9e7a2c01")


def default_group_id(owner_id: uuid.UUID, kind: str) -> uuid.UUID:
    """Family and Friends have ids derived from their owner: known before they are written."""
    return uuid.uuid5(_DEFAULT_NAMESPACE, f"{owner_id}:{kind}")


@dataclass(frozen=True, slots=True)
class GroupRecord:
    id: uuid.UUID
    owner_id: uuid.UUID
    kind: str
    name: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class MemberRef:
    territory_id: str
    user_id: uuid.UUID
    added_at: datetime


GROUP_COLUMNS = (
    social_groups.c.id,
    social_groups.c.owner_id,
    social_groups.c.kind,
    social_groups.c.name,
    social_groups.c.created_at,
)


async def ensure_defaults(conn: AsyncConnection, owner_id: uuid.UUID) -> None:
    """Family and Friends exist for every owner; one idempotent statement."""
    await conn.execute(
        pg_insert(social_groups)
        .values(
            [
                {"id": default_group_id(owner_id, k), "owner_id": owner_id, "kind": k, "name": n}
                for k, n in DEFAULT_GROUPS
            ]
        )
        .on_conflict_do_nothing()
    )


async def groups_of(
    conn: AsyncConnection, owner_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, list[GroupRecord]]:
    rows = await conn.execute(
        select(*GROUP_COLUMNS)
        .where(social_groups.c.owner_id.in_(list(owner_ids)))
        .order_by(
            social_groups.c.owner_id,
            (social_groups.c.kind == "custom"),
            social_groups.c.kind,
            func.lower(social_groups.c.name),
        )
    )
    found: dict[uuid.UUID, list[GroupRecord]] = {}
    for row in rows:
        found.setdefault(row.owner_id, []).append(GroupRecord(*row))
    return found


async def group(
    conn: AsyncConnection, group_id: uuid.UUID, *, lock: bool = False
) -> GroupRecord | None:
    query = select(*GROUP_COLUMNS).where(social_groups.c.id == group_id)
    if lock:
        query = query.with_for_update()
    row = (await conn.execute(query)).first()
    return None if row is None else GroupRecord(*row)


async def custom_count(conn: AsyncConnection, owner_id: uuid.UUID) -> int:
    """How many custom groups the owner has, counted under their row lock (``lock_owner``)."""
    await lock_owner(conn, owner_id)
    query = select(func.count()).where(
        social_groups.c.owner_id == owner_id, social_groups.c.kind == "custom"
    )
    return int((await conn.execute(query)).scalar_one())


async def create(conn: AsyncConnection, owner_id: uuid.UUID, name: str) -> GroupRecord:
    try:
        async with conn.begin_nested():
            row = (
                await conn.execute(
                    social_groups.insert()
                    .values(id=uuid.uuid4(), owner_id=owner_id, kind="custom", name=name)
                    .returning(*GROUP_COLUMNS)
                )
            ).one()
    except IntegrityError:
        raise AlreadyExists(f"You already have a group called '{name}'.") from None
    return GroupRecord(*row)


async def rename(conn: AsyncConnection, group_id: uuid.UUID, name: str) -> GroupRecord:
    try:
        async with conn.begin_nested():
            row = (
                await conn.execute(
                    update(social_groups)
                    .where(social_groups.c.id == group_id)
                    .values(name=name)
                    .returning(*GROUP_COLUMNS)
                )
            ).one()
    except IntegrityError:
        raise AlreadyExists(f"You already have a group called '{name}'.") from None
    return GroupRecord(*row)


async def delete_group(conn: AsyncConnection, group_id: uuid.UUID) -> None:
    await conn.execute(delete(social_groups).where(social_groups.c.id == group_id))


async def members_of(
    conn: AsyncConnection, group_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, list[MemberRef]]:
    rows = await conn.execute(
        select(
            social_group_members.c.group_id,
            social_group_members.c.member_territory,
            social_group_members.c.member_user_id,
            social_group_members.c.added_at,
        )
        .where(social_group_members.c.group_id.in_(list(group_ids)))
        .order_by(social_group_members.c.group_id, social_group_members.c.added_at)
    )
    found: dict[uuid.UUID, list[MemberRef]] = {}
    for group_id, territory, user_id, added_at in rows:
        found.setdefault(group_id, []).append(MemberRef(str(territory), user_id, added_at))
    return found


async def member_count(conn: AsyncConnection, group_id: uuid.UUID) -> int:
    """How many members the group has, counted under the group's row lock, so the limit
    checked against it holds under concurrency."""
    lock = select(social_groups.c.id).where(social_groups.c.id == group_id)
    await conn.execute(lock.with_for_update(key_share=True))
    query = select(func.count()).where(social_group_members.c.group_id == group_id)
    return int((await conn.execute(query)).scalar_one())


async def add_member(
    conn: AsyncConnection, group_id: uuid.UUID, territory_id: str, user_id: uuid.UUID
) -> bool:
    """Add a member; False when already in the group (idempotent)."""
    result = await conn.execute(
        pg_insert(social_group_members)
        .values(group_id=group_id, member_territory=territory_id, member_user_id=user_id)
        .on_conflict_do_nothing()
    )
    return bool(result.rowcount)


async def remove_member(
    conn: AsyncConnection, group_id: uuid.UUID, territory_id: str, user_id: uuid.UUID
) -> bool:
    result = await conn.execute(
        delete(social_group_members).where(
            social_group_members.c.group_id == group_id,
            social_group_members.c.member_territory == territory_id,
            social_group_members.c.member_user_id == user_id,
        )
    )
    return bool(result.rowcount)
