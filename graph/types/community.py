"""Communities inside a territory; anonymous callers see public ones only."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import Enum
from typing import TYPE_CHECKING, Annotated

import strawberry
from sqlalchemy.ext.asyncio import AsyncConnection

from db import communities as community_db
from db.communities import CommunityRecord
from domain.communities import CommunityRole as DomainCommunityRole
from graph import ids
from graph.context import Info
from graph.types.relay import Connection, Node, connection, page_size

if TYPE_CHECKING:
    from graph.types.membership import CommunityMember
    from graph.types.territory import Territory

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
    territory: Annotated[Territory, strawberry.lazy("graph.types.territory")] = strawberry.field(
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
        from graph.types.membership import viewer_role

        return await viewer_role(info, self.territory.code, uuid.UUID(ids.decode(self.id).key))

    @strawberry.field(
        description="Members by join date, each with their profile as they let you see it. Null "
        "unless you are an account of this community's territory."
    )
    async def members(
        self, info: Info, first: int | None = None, after: str | None = None
    ) -> Connection[Annotated[CommunityMember, strawberry.lazy("graph.types.membership")]] | None:
        from graph.types.membership import members

        key = uuid.UUID(ids.decode(self.id).key)
        return await members(info, self.territory.code, key, first=first, after=after)


async def _territory_node(info: Info, territory_id: str) -> Territory | None:
    from graph.types.territory import Territory

    record = await info.context.loaders.active_territory(territory_id)
    return None if record is None else Territory.from_record(record)


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
