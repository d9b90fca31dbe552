"""Reads of a territory's communities. Callers pass a connection already routed to the territory."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from db.models import communities


@dataclass(frozen=True, slots=True)
class CommunityRecord:
    id: uuid.UUID
    territory_id: str
    slug: str
    name: str
    description: str
    is_public: bool
    created_at: datetime


COLUMNS = (
    communities.c.id,
    communities.c.slug,
    communities.c.name,
    communities.c.description,
    communities.c.is_public,
    communities.c.created_at,
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


def _records(territory_id: str, rows: Sequence[Sequence[object]]) -> list[CommunityRecord]:
    return [record(territory_id, row) for row in rows]


async def by_ids(
    conn: AsyncConnection, territory_id: str, ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, CommunityRecord]:
    result = await conn.execute(select(*COLUMNS).where(communities.c.id.in_(list(ids))))
    return {rec.id: rec for rec in _records(territory_id, result.all())}


async def public_page(
    conn: AsyncConnection, territory_id: str, *, after_slug: str | None, limit: int
) -> list[CommunityRecord]:
    """Public communities by slug, keyset-paginated."""
    query = (
        select(*COLUMNS)
        .where(communities.c.is_public.is_(True))
        .order_by(communities.c.slug)
        .limit(limit)
    )
    if after_slug is not None:
        query = query.where(communities.c.slug > after_slug)
    return _records(territory_id, (await conn.execute(query)).all())
