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
from graph import ids
from graph.context import Info
from graph.types.relay import Connection, Node, connection, page_size

if TYPE_CHECKING:
    from graph.types.territory import Territory


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
    territory_code: strawberry.Private[str]

    @classmethod
    def from_record(cls, record: CommunityRecord) -> Community:
        return cls(
            id=strawberry.ID(ids.encode("Community", record.territory_id, str(record.id))),
            slug=record.slug,
            name=record.name,
            description=record.description,
            visibility=(
                CommunityVisibility.PUBLIC if record.is_public else CommunityVisibility.INVITE_ONLY
            ),
            created_at=record.created_at,
            territory_code=record.territory_id,
        )

    @strawberry.field(description="The territory whose schema holds this community.")
    async def territory(
        self, info: Info
    ) -> Annotated[Territory, strawberry.lazy("graph.types.territory")]:
        from graph.types.territory import Territory

        record = await info.context.loaders.active_territory(self.territory_code)
        assert record is not None, "a community is only read through its active territory"
        return Territory.from_record(record)


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
    return Community.from_record(record)


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
    by_id = info.context.loaders.in_territory(
        territory_id, "community_by_id", _by_ids, missing=None
    )
    for row in rows:
        by_id.prime(row.id, row)
    return connection(
        rows, limit, sort_key=lambda r: r.slug, node=Community.from_record, after=after_slug
    )
