"""The territory registry in ``global.territories``: which territories exist and where they live."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection

from db.models import territories
from domain.territories import TerritoryKind, TerritoryStatus


@dataclass(frozen=True, slots=True)
class TerritoryRecord:
    id: str
    name: str
    kind: TerritoryKind
    parent_id: str | None
    db_server: str
    status: TerritoryStatus
    created_at: datetime
    updated_at: datetime


_COLUMNS = (
    territories.c.id,
    territories.c.name,
    territories.c.kind,
    territories.c.parent_id,
    territories.c.db_server,
    territories.c.status,
    territories.c.created_at,
    territories.c.updated_at,
)


def _record(row: Sequence[object]) -> TerritoryRecord:
    tid, name, kind, parent, server, status, created, updated = row
    return TerritoryRecord(
        id=str(tid),
        name=str(name),
        kind=TerritoryKind(str(kind)),
        parent_id=None if parent is None else str(parent),
        db_server=str(server),
        status=TerritoryStatus(str(status)),
        created_at=created,  # type: ignore[arg-type]
        updated_at=updated,  # type: ignore[arg-type]
    )


async def by_ids(conn: AsyncConnection, ids: Sequence[str]) -> dict[str, TerritoryRecord]:
    result = await conn.execute(select(*_COLUMNS).where(territories.c.id.in_(list(ids))))
    return {rec.id: rec for rec in map(_record, result)}


async def page(
    conn: AsyncConnection,
    *,
    after: str | None,
    limit: int,
    kind: TerritoryKind | None = None,
    active_only: bool = True,
) -> list[TerritoryRecord]:
    """Territories ordered by id, keyset-paginated (stable under concurrent inserts)."""
    query = select(*_COLUMNS).order_by(territories.c.id).limit(limit)
    if after is not None:
        query = query.where(territories.c.id > after)
    if kind is not None:
        query = query.where(territories.c.kind == kind.value)
    if active_only:
        query = query.where(territories.c.status == TerritoryStatus.ACTIVE.value)
    return [_record(row) for row in await conn.execute(query)]


async def all_records(conn: AsyncConnection) -> list[TerritoryRecord]:
    return [
        _record(row) for row in await conn.execute(select(*_COLUMNS).order_by(territories.c.id))
    ]


async def insert_provisioning(
    conn: AsyncConnection,
    *,
    territory_id: str,
    name: str,
    kind: TerritoryKind,
    parent_id: str | None,
    db_server: str,
) -> bool:
    """Register a territory as provisioning; False when the id is already taken."""
    result = await conn.execute(
        insert(territories)
        .values(
            id=territory_id,
            name=name,
            kind=kind.value,
            parent_id=parent_id,
            db_server=db_server,
            status=TerritoryStatus.PROVISIONING.value,
        )
        .on_conflict_do_nothing(index_elements=[territories.c.id])
    )
    return bool(result.rowcount)


async def set_status(conn: AsyncConnection, territory_id: str, status: TerritoryStatus) -> None:
    await conn.execute(
        update(territories)
        .where(territories.c.id == territory_id)
        .values(status=status.value, updated_at=func.now())
    )


async def set_server(conn: AsyncConnection, territory_id: str, db_server: str) -> None:
    await conn.execute(
        update(territories)
        .where(territories.c.id == territory_id)
        .values(db_server=db_server, updated_at=func.now())
    )
