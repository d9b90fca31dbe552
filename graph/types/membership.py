"""Community memberships as the graph shows them: member lists and a person's own communities.

Member lists are for accounts of the community's territory; each member's profile still goes
through ``profile_view``, so a list never shows more of a person than their privacy allows.
"""

from __future__ import annotations

import uuid
from datetime import datetime

import strawberry
from aiodataloader import DataLoader
from sqlalchemy.ext.asyncio import AsyncConnection

from db import memberships as membership_db
from db.communities import CommunityRecord
from db.memberships import MembershipRecord
from domain.communities import CommunityRole
from domain.errors import BadUserInput
from domain.roles import is_global_admin
from graph import ids
from graph.context import Info
from graph.types.community import Community
from graph.types.profile import Profile, profile_view
from graph.types.relay import Connection, connection, page_size

Joined = list[tuple[MembershipRecord, CommunityRecord]]


@strawberry.type(description="A member of a community.")
class CommunityMember:
    role: CommunityRole
    joined_at: datetime
    territory_code: strawberry.Private[str]
    user_id: strawberry.Private[uuid.UUID]

    @strawberry.field(description="Their profile as they let you see it; null if nothing.")
    async def profile(self, info: Info) -> Profile | None:
        return await profile_view(info, self.territory_code, self.user_id)


@strawberry.type(description="A community someone belongs to, with their role in it.")
class CommunityMembership:
    community: Community
    role: CommunityRole
    joined_at: datetime


async def community_node(info: Info, record: CommunityRecord) -> Community | None:
    from graph.types.territory import Territory

    territory = await info.context.loaders.active_territory(record.territory_id)
    return (
        None
        if territory is None
        else Community.from_record(record, Territory.from_record(territory))
    )


async def _of_users(
    conn: AsyncConnection, territory_id: str, keys: list[uuid.UUID]
) -> list[Joined]:
    found = await membership_db.of_users(conn, territory_id, keys)
    return [found.get(k, []) for k in keys]


def memberships_loader(info: Info, territory_id: str) -> DataLoader[uuid.UUID, Joined]:
    none: Joined = []
    return info.context.loaders.in_territory(
        territory_id, "memberships_of_users", _of_users, missing=none
    )


async def memberships_of(
    info: Info, territory_id: str, user_id: uuid.UUID
) -> list[CommunityMembership]:
    found = await memberships_loader(info, territory_id).load(user_id)
    result = []
    for membership, record in found:
        node = await community_node(info, record)
        if node is not None:
            result.append(
                CommunityMembership(
                    community=node, role=membership.role, joined_at=membership.joined_at
                )
            )
    return result


async def viewer_role(
    info: Info, territory_id: str, community_id: uuid.UUID
) -> CommunityRole | None:
    caller = info.context.caller
    if caller.territory_id != territory_id or caller.user_id is None:
        return None
    found = await memberships_loader(info, territory_id).load(uuid.UUID(caller.user_id))
    return next((m.role for m, _ in found if m.community_id == community_id), None)


PageKey = tuple[uuid.UUID, tuple[datetime, uuid.UUID] | None, int]


async def _pages(
    conn: AsyncConnection, territory_id: str, keys: list[PageKey]
) -> list[list[MembershipRecord]]:
    # One statement per distinct (community, after, limit): a document names few of them.
    return [
        await membership_db.members_page(conn, community, after=after, limit=limit)
        for community, after, limit in keys
    ]


def _cursor_key(record: MembershipRecord) -> str:
    return f"{record.joined_at.isoformat()}|{record.user_id}"


def _parse_cursor(value: str | None) -> tuple[datetime, uuid.UUID] | None:
    if value is None:
        return None
    when, _, key = value.partition("|")
    try:
        return datetime.fromisoformat(when), uuid.UUID(key)
    except ValueError:
        raise BadUserInput("Malformed cursor.") from None


async def members(
    info: Info, territory_id: str, community_id: uuid.UUID, *, first: int | None, after: str | None
) -> Connection[CommunityMember] | None:
    caller = info.context.caller
    if caller.territory_id != territory_id and not is_global_admin(caller.roles):
        return None
    limit = page_size(first)
    after_raw = ids.decode_cursor(after)
    none: list[MembershipRecord] = []
    loader = info.context.loaders.in_territory(
        territory_id, "community_members", _pages, missing=none
    )
    rows = await loader.load((community_id, _parse_cursor(after_raw), limit + 1))
    return connection(
        rows,
        limit,
        sort_key=_cursor_key,
        node=lambda r: CommunityMember(
            role=r.role, joined_at=r.joined_at, territory_code=territory_id, user_id=r.user_id
        ),
        after=after_raw,
    )
