"""Territories: the federation's registry, public to every caller."""

from __future__ import annotations

from datetime import datetime

import strawberry

from db.territories import TerritoryRecord
from domain.territories import TerritoryKind
from graph import ids
from graph.context import Info
from graph.types.communities import TerritoryCommunities
from graph.types.relay import Node

TerritoryKindEnum = strawberry.enum(
    TerritoryKind, name="TerritoryKind", description="What a territory is."
)


@strawberry.type(description="A country, First Nation or community holding its own data.")
class Territory(TerritoryCommunities, Node):
    code: str = strawberry.field(
        description="The territory id, e.g. `dk`, `fn_sami`, `c_dk_aarhus`."
    )
    name: str
    kind: TerritoryKind
    created_at: datetime
    parent_code: strawberry.Private[str | None]

    @classmethod
    def from_record(cls, record: TerritoryRecord) -> Territory:
        return cls(
            id=strawberry.ID(ids.encode("Territory", record.id, record.id)),
            code=record.id,
            name=record.name,
            kind=record.kind,
            created_at=record.created_at,
            parent_code=record.parent_id,
        )

    @strawberry.field(description="The territory this one belongs to, if any.")
    async def parent(self, info: Info) -> Territory | None:
        if self.parent_code is None:
            return None
        record = await info.context.loaders.active_territory(self.parent_code)
        return None if record is None else Territory.from_record(record)


async def resolve_territory(info: Info, territory_id: str) -> Territory | None:
    record = await info.context.loaders.active_territory(territory_id)
    return None if record is None else Territory.from_record(record)
