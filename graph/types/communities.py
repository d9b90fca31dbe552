"""Communities inside a territory, their members, and a person's memberships.

Anonymous callers see public communities only. Member lists are for accounts of the community's
territory; each member's profile still goes through ``profile_view``, so a list never shows more
of a person than their privacy allows. ``Territory.communities`` and ``User.communities`` come
from the mixins at the end of this module.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import Enum
from typing import TYPE_CHECKING, Annotated

import strawberry
from aiodataloader import DataLoader
from sqlalchemy.ext.asyncio import AsyncConnection

from db import communities as community_db
from db import memberships as membership_db
from db.communities import CommunityRecord
from db.memberships import MembershipRecord
from domain.communities import CommunityRole as DomainCommunityRole
from domain.errors import BadUserInput
from domain.roles import is_global_admin
from graph import ids
from graph.context import Info
from graph.types.profiles import PersonProfile
from graph.types.relay import Connection, Node, PersonKey, connection, hub_type, page_size

if TYPE_CHECKING:
    from graph.types.territories import Territory

TERRITORIES = "graph.types.territories"

CommunityRole = strawberry.enum(
    DomainCommunityRole, name="CommunityRole", description="A member's role in one community."
)


@strawberry.enum(description="Who may join a community.")
class CommunityVisibility(Enum):
    PUBLIC = "public"
    INVITE_ONLY = "invite_only"


@strawberry.type(description="A community of people inside one territory.")
class Community(Node):
    slug: str
    name: str
    description: str
    visibility: CommunityVisibility
    created_at: datetime
    territory: Annotated[Territory, strawberry.lazy(TERRITORIES)] = strawberry.field(
        description="The territory whose schema holds this community."
    )

    @classmethod
    def from_record(cls, record: CommunityRecord, territory: Territory) -> Community:
        """``territory`` is shared by every community of a page: a plain attribute, no resolver."""
        return cls(
            id=strawberry.ID(ids.encode("Community", record.territory_id, str(record.id))),
            slug=record.slug,
            name=record.name,
            description=record.description,
            visibility=(
                CommunityVisibility.PUBLIC if record.is_public else CommunityVisibility.INVITE_ONLY
            ),
            created_at=record.created_at,
            territory=territory,
        )

    @strawberry.field(description="Your role here; null when you are not a member.")
    async def viewer_role(self, info: Info) -> DomainCommunityRole | None:
        return await viewer_role(info, self.territory.code, uuid.UUID(ids.decode(self.id).key))

    @strawberry.field(
        description="Members by join date, each with their profile as they let you see it. Null "
        "unless you are an account of this community's territory."
    )
    async def members(
        self, info: Info, first: int | None = None, after: str | None = None
    ) -> Connection[CommunityMember] | None:
        key = uuid.UUID(ids.decode(self.id).key)
        return await members(info, self.territory.code, key, first=first, after=after)


async def _territory_node(info: Info, territory_id: str) -> Territory | None:
    record = await info.context.loaders.active_territory(territory_id)
    territory: type[Territory] = hub_type(TERRITORIES, "Territory")
    return None if record is None else territory.from_record(record)


async def _by_ids(
    conn: AsyncConnection, territory_id: str, keys: list[uuid.UUID]
) -> list[CommunityRecord | None]:
    found = await community_db.by_ids(conn, territory_id, keys)
    return [found.get(k) for k in keys]


async def _public_pages(
    conn: AsyncConnection, territory_id: str, keys: list[tuple[str | None, int]]
) -> list[list[CommunityRecord]]:
    # Distinct (after, limit) pairs are few per document (one per distinct argument set).
    return [
        await community_db.public_page(conn, territory_id, after_slug=after, limit=limit)
        for after, limit in keys
    ]


async def community_by_id(info: Info, territory_id: str, key: uuid.UUID) -> Community | None:
    """A community visible to the caller, or None (invisible and absent look the same)."""
    loader = info.context.loaders.in_territory(
        territory_id, "community_by_id", _by_ids, missing=None
    )
    record = await loader.load(key)
    if record is None or not record.is_public:
        return None
    territory = await _territory_node(info, territory_id)
    return None if territory is None else Community.from_record(record, territory)


async def public_communities(
    info: Info, territory_id: str, *, first: int | None, after: str | None
) -> Connection[Community]:
    limit = page_size(first)
    after_slug = ids.decode_cursor(after)
    no_rows: list[CommunityRecord] = []
    loader = info.context.loaders.in_territory(
        territory_id, "public_communities", _public_pages, missing=no_rows
    )
    rows = await loader.load((after_slug, limit + 1))
    territory = await _territory_node(info, territory_id)
    if territory is None:  # the loader answered `no_rows` for an unknown or inactive territory
        rows = []
    by_id = info.context.loaders.in_territory(
        territory_id, "community_by_id", _by_ids, missing=None
    )
    for row in rows:
        by_id.prime(row.id, row)
    return connection(
        rows,
        limit,
        sort_key=lambda r: r.slug,
        node=lambda r: Community.from_record(r, territory),  # type: ignore[arg-type]
        after=after_slug,
    )


Joined = list[tuple[MembershipRecord, CommunityRecord]]


@strawberry.type(description="A member of a community.")
class CommunityMember(PersonProfile):
    role: DomainCommunityRole
    joined_at: datetime


@strawberry.type(description="A community someone belongs to, with their role in it.")
class CommunityMembership:
    community: Community
    role: DomainCommunityRole
    joined_at: datetime


async def community_node(info: Info, record: CommunityRecord) -> Community | None:
    territory = await _territory_node(info, record.territory_id)
    return None if territory is None else Community.from_record(record, territory)


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
) -> DomainCommunityRole | None:
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


@strawberry.type
class TerritoryCommunities:
    """``Territory.communities``: the hub inherits it, so the field lives with communities."""

    code: str

    @strawberry.field(description="The territory's public communities, by slug.")
    async def communities(
        self, info: Info, first: int | None = None, after: str | None = None
    ) -> Connection[Community]:
        return await public_communities(info, self.code, first=first, after=after)


@strawberry.type
class UserCommunities(PersonKey):
    """``User.communities``."""

    @strawberry.field(description="Communities this account belongs to, oldest membership first.")
    async def communities(self, info: Info) -> list[CommunityMembership]:
        return await memberships_of(info, self.territory_code, self.user_id)
