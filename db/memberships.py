"""Community creation and memberships inside one territory (connection routed to it).

Membership changes lock the community row first (``lock_community``), so two concurrent changes
of one community serialise and the "at least one admin" rule cannot be raced.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, select, tuple_, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from db import audit
from db.audit import AuditAction
from db.communities import COLUMNS as COMMUNITY_COLUMNS
from db.communities import CommunityRecord
from db.communities import record as community_record
from db.engines import Database
from db.models import communities, community_memberships
from domain.communities import CommunityRole
from domain.errors import AlreadyExists
from unityplan.settings import MAIN_SERVER


@dataclass(frozen=True, slots=True)
class MembershipRecord:
    community_id: uuid.UUID
    user_id: uuid.UUID
    role: CommunityRole
    joined_at: datetime


_MEMBERSHIP = (
    community_memberships.c.community_id,
    community_memberships.c.user_id,
    community_memberships.c.role,
    community_memberships.c.joined_at,
)


def _membership(row: Sequence[object]) -> MembershipRecord:
    return MembershipRecord(
        community_id=row[0],  # type: ignore[arg-type]
        user_id=row[1],  # type: ignore[arg-type]
        role=CommunityRole(str(row[2])),
        joined_at=row[3],  # type: ignore[arg-type]
    )


async def create_community(
    conn: AsyncConnection,
    territory_id: str,
    *,
    slug: str,
    name: str,
    description: str,
    is_public: bool,
    creator: uuid.UUID | None,
) -> CommunityRecord:
    """A new community; its creator (if an account of this territory) becomes its admin."""
    community_id = uuid.uuid4()
    try:
        async with conn.begin_nested():
            row = (
                await conn.execute(
                    communities.insert()
                    .values(
                        id=community_id,
                        slug=slug,
                        name=name,
                        description=description,
                        is_public=is_public,
                        created_by=creator,
                    )
                    .returning(*COMMUNITY_COLUMNS)
                )
            ).one()
    except IntegrityError:
        raise AlreadyExists(f"A community with the slug '{slug}' already exists here.") from None
    if creator is not None:
        await add(conn, community_id, creator, CommunityRole.ADMIN)
    return community_record(territory_id, row)


async def lock_community(
    conn: AsyncConnection, territory_id: str, community_id: uuid.UUID
) -> CommunityRecord | None:
    row = (
        await conn.execute(
            select(*COMMUNITY_COLUMNS).where(communities.c.id == community_id).with_for_update()
        )
    ).first()
    return None if row is None else community_record(territory_id, row)


async def role_of(
    conn: AsyncConnection, community_id: uuid.UUID, user_id: uuid.UUID
) -> CommunityRole | None:
    found = (
        await conn.execute(
            select(community_memberships.c.role).where(
                community_memberships.c.community_id == community_id,
                community_memberships.c.user_id == user_id,
            )
        )
    ).scalar()
    return None if found is None else CommunityRole(str(found))


async def admin_count(conn: AsyncConnection, community_id: uuid.UUID) -> int:
    query = select(func.count()).where(
        community_memberships.c.community_id == community_id,
        community_memberships.c.role == CommunityRole.ADMIN.value,
    )
    return int((await conn.execute(query)).scalar_one())


async def add(
    conn: AsyncConnection, community_id: uuid.UUID, user_id: uuid.UUID, role: CommunityRole
) -> bool:
    """Add a member; False when already a member (their role is left as it is)."""
    result = await conn.execute(
        pg_insert(community_memberships)
        .values(community_id=community_id, user_id=user_id, role=role.value)
        .on_conflict_do_nothing()
    )
    return bool(result.rowcount)


async def remove(conn: AsyncConnection, community_id: uuid.UUID, user_id: uuid.UUID) -> bool:
    result = await conn.execute(
        delete(community_memberships).where(
            community_memberships.c.community_id == community_id,
            community_memberships.c.user_id == user_id,
        )
    )
    return bool(result.rowcount)


async def set_role(
    conn: AsyncConnection, community_id: uuid.UUID, user_id: uuid.UUID, role: CommunityRole
) -> None:
    await conn.execute(
        update(community_memberships)
        .where(
            community_memberships.c.community_id == community_id,
            community_memberships.c.user_id == user_id,
        )
        .values(role=role.value)
    )


async def of_users(
    conn: AsyncConnection, territory_id: str, user_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, list[tuple[MembershipRecord, CommunityRecord]]]:
    """Each user's memberships with their communities, oldest first, in one statement."""
    rows = await conn.execute(
        select(*_MEMBERSHIP, *COMMUNITY_COLUMNS)
        .select_from(
            community_memberships.join(
                communities, communities.c.id == community_memberships.c.community_id
            )
        )
        .where(community_memberships.c.user_id.in_(list(user_ids)))
        .order_by(community_memberships.c.user_id, community_memberships.c.joined_at)
    )
    found: dict[uuid.UUID, list[tuple[MembershipRecord, CommunityRecord]]] = {}
    for row in rows:
        membership = _membership(row[:4])
        found.setdefault(membership.user_id, []).append(
            (membership, community_record(territory_id, row[4:]))
        )
    return found


async def members_page(
    conn: AsyncConnection,
    community_id: uuid.UUID,
    *,
    after: tuple[datetime, uuid.UUID] | None,
    limit: int,
) -> list[MembershipRecord]:
    """Members by (joined_at, user id), keyset-paginated."""
    key = tuple_(community_memberships.c.joined_at, community_memberships.c.user_id)
    query = (
        select(*_MEMBERSHIP)
        .where(community_memberships.c.community_id == community_id)
        .order_by(community_memberships.c.joined_at, community_memberships.c.user_id)
        .limit(limit)
    )
    if after is not None:
        query = query.where(key > tuple_(*after))
    return [_membership(r) for r in (await conn.execute(query)).all()]


async def audit_in_step(
    db: Database,
    server: str,
    conn: AsyncConnection,
    action: AuditAction,
    **entry: Any,
) -> None:
    """Audit a change of a territory on ``server`` while its transaction ``conn`` is open.

    On the main server the entry joins that very transaction (all or nothing). Elsewhere it is
    committed in ``global`` just before the territory commits, as registration does: an entry may
    then outlive a failed territory commit, but a change is never left unaudited.
    """
    if server == MAIN_SERVER:
        await audit.record(conn, action, **entry)
        return
    async with db.transaction(MAIN_SERVER) as global_conn:
        await audit.record(global_conn, action, **entry)
