"""A territory's communities and their memberships. Callers pass a connection already routed to
the territory.

Membership changes lock the community row first (``lock_community``), so two concurrent changes
of one community serialise and the "at least one admin" rule cannot be raced.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import (
    DateTime,
    Integer,
    String,
    bindparam,
    delete,
    func,
    or_,
    select,
    true,
    tuple_,
    update,
)
from sqlalchemy.dialects.postgresql import ARRAY, UUID
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from db.models import communities, community_memberships, users
from db.profiles import PEOPLE, ProfileRow, view_columns, view_of
from domain.communities import CommunityRole
from domain.errors import AlreadyExists
from domain.privacy import Viewer


@dataclass(frozen=True, slots=True)
class CommunityRecord:
    id: uuid.UUID
    territory_id: str
    slug: str
    name: str
    description: str
    is_public: bool
    created_at: datetime


@dataclass(frozen=True, slots=True)
class MembershipRecord:
    community_id: uuid.UUID
    user_id: uuid.UUID
    role: CommunityRole
    joined_at: datetime


PublicPageKey = tuple[str | None, int]
"""(slug after which the page starts, or None for the first page; rows to read)."""

MemberCursor = tuple[datetime, uuid.UUID]
"""A member's place in a community's member list: (joined at, user id)."""

MemberPageKey = tuple[uuid.UUID, MemberCursor | None, int]
"""(community, cursor after which the page starts or None, rows to read)."""

COLUMNS = (
    communities.c.id,
    communities.c.slug,
    communities.c.name,
    communities.c.description,
    communities.c.is_public,
    communities.c.created_at,
)

_MEMBERSHIP = (
    community_memberships.c.community_id,
    community_memberships.c.user_id,
    community_memberships.c.role,
    community_memberships.c.joined_at,
)


def record(territory_id: str, row: Sequence[object]) -> CommunityRecord:
    """A row selected with ``COLUMNS`` (first, in that order) as a record of ``territory_id``."""
    return CommunityRecord(
        id=row[0],  # type: ignore[arg-type]
        territory_id=territory_id,
        slug=str(row[1]),
        name=str(row[2]),
        description=str(row[3]),
        is_public=bool(row[4]),
        created_at=row[5],  # type: ignore[arg-type]
    )


def _membership(row: Sequence[object]) -> MembershipRecord:
    return MembershipRecord(
        community_id=row[0],  # type: ignore[arg-type]
        user_id=row[1],  # type: ignore[arg-type]
        role=CommunityRole(str(row[2])),
        joined_at=row[3],  # type: ignore[arg-type]
    )


# --- reads


async def by_ids(
    conn: AsyncConnection, territory_id: str, ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, CommunityRecord]:
    result = await conn.execute(select(*COLUMNS).where(communities.c.id.in_(list(ids))))
    return {rec.id: rec for rec in (record(territory_id, row) for row in result.all())}


# The keys of a batch arrive as arrays and are unnested (with their ordinality as the key's index),
# so every batch runs the SAME statement text: SQLAlchemy compiles it once and asyncpg prepares it
# once per connection, whatever the batch holds (a VALUES list of literals is compiled anew each
# time).
_PUBLIC_KEYS = (
    func.unnest(
        bindparam("after_slugs", type_=ARRAY(String)), bindparam("limits", type_=ARRAY(Integer))
    )
    .table_valued("after_slug", "lim", with_ordinality="idx")
    .render_derived(name="k")
)
_PUBLIC_PAGE = (
    select(*COLUMNS)
    .where(
        communities.c.is_public.is_(True),
        or_(_PUBLIC_KEYS.c.after_slug.is_(None), communities.c.slug > _PUBLIC_KEYS.c.after_slug),
    )
    .order_by(communities.c.slug)
    .limit(_PUBLIC_KEYS.c.lim)
    .lateral("page")
)
_PUBLIC_PAGES = (
    select(_PUBLIC_KEYS.c.idx, *_PUBLIC_PAGE.c)
    .select_from(_PUBLIC_KEYS.join(_PUBLIC_PAGE, true()))
    .order_by(_PUBLIC_KEYS.c.idx, _PUBLIC_PAGE.c.slug)
)


async def public_pages(
    conn: AsyncConnection, territory_id: str, keys: Sequence[PublicPageKey]
) -> list[list[CommunityRecord]]:
    """Pages of public communities by slug (keyset), one per key, in ONE statement: a LATERAL
    join runs the page query once per (after, limit) pair."""
    if not keys:
        return []
    rows = await conn.execute(
        _PUBLIC_PAGES,
        {
            "after_slugs": [after for after, _ in keys],
            "limits": [limit for _, limit in keys],
        },
    )
    found: list[list[CommunityRecord]] = [[] for _ in keys]
    for row in rows:
        found[row[0] - 1].append(record(territory_id, row[1:]))
    return found


async def of_users(
    conn: AsyncConnection, territory_id: str, user_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, list[tuple[MembershipRecord, CommunityRecord]]]:
    """Each user's memberships with their communities, oldest first, in one statement."""
    rows = await conn.execute(
        select(*_MEMBERSHIP, *COLUMNS)
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
        found.setdefault(membership.user_id, []).append((membership, record(territory_id, row[4:])))
    return found


_MEMBER_KEYS = (
    func.unnest(
        bindparam("communities", type_=ARRAY(UUID(as_uuid=True))),
        bindparam("after_ats", type_=ARRAY(DateTime(timezone=True))),
        bindparam("after_users", type_=ARRAY(UUID(as_uuid=True))),
        bindparam("limits", type_=ARRAY(Integer)),
    )
    .table_valued("community_id", "after_at", "after_user", "lim", with_ordinality="idx")
    .render_derived(name="k")
)
_MEMBER_PAGE = (
    select(*_MEMBERSHIP)
    .where(
        community_memberships.c.community_id == _MEMBER_KEYS.c.community_id,
        or_(
            _MEMBER_KEYS.c.after_at.is_(None),
            tuple_(community_memberships.c.joined_at, community_memberships.c.user_id)
            > tuple_(_MEMBER_KEYS.c.after_at, _MEMBER_KEYS.c.after_user),
        ),
    )
    .order_by(community_memberships.c.joined_at, community_memberships.c.user_id)
    .limit(_MEMBER_KEYS.c.lim)
    .lateral("page")
)


def _member_key_params(keys: Sequence[MemberPageKey]) -> dict[str, list[object]]:
    return {
        "communities": [community for community, _, _ in keys],
        "after_ats": [None if after is None else after[0] for _, after, _ in keys],
        "after_users": [None if after is None else after[1] for _, after, _ in keys],
        "limits": [limit for _, _, limit in keys],
    }


async def member_pages(
    conn: AsyncConnection, territory_id: str, keys: Sequence[MemberPageKey], viewer: Viewer
) -> list[list[tuple[MembershipRecord, ProfileRow]]]:
    """Pages of members by (joined_at, user id), keyset-paginated, one per key, each member with
    their profile as ``viewer`` reads it, all in ONE statement: a LATERAL join runs the page query
    once per (community, after, limit), and a member list always shows its people, so their
    profiles are never a second round trip."""
    if not keys:
        return []
    page = _MEMBER_PAGE
    query = (
        select(_MEMBER_KEYS.c.idx, *page.c, *view_columns(territory_id, viewer))
        .select_from(_MEMBER_KEYS.join(page, true()).join(PEOPLE, users.c.id == page.c.user_id))
        .order_by(_MEMBER_KEYS.c.idx, page.c.joined_at, page.c.user_id)
    )
    found: list[list[tuple[MembershipRecord, ProfileRow]]] = [[] for _ in keys]
    width = len(page.c)
    for row in await conn.execute(query, _member_key_params(keys)):
        found[row[0] - 1].append((_membership(row[1 : width + 1]), view_of(territory_id, row)))
    return found


# --- inside a mutation's transaction


async def lock_community(
    conn: AsyncConnection, territory_id: str, community_id: uuid.UUID
) -> CommunityRecord | None:
    row = (
        await conn.execute(
            select(*COLUMNS).where(communities.c.id == community_id).with_for_update()
        )
    ).first()
    return None if row is None else record(territory_id, row)


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
                    .returning(*COLUMNS)
                )
            ).one()
    except IntegrityError:
        raise AlreadyExists(
            f"A community with the slug '{slug}' already exists here.", field="slug"
        ) from None
    if creator is not None:
        await add(conn, community_id, creator, CommunityRole.ADMIN)
    return record(territory_id, row)


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
