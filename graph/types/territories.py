"""Territories: the federation's registry, public to every caller."""

from __future__ import annotations

from datetime import datetime

import strawberry

from db.territories import TerritoryRecord
from domain.territories import TerritoryKind
from graph import ids
from graph.context import Info
from graph.types.communities import TerritoryCommunities
from graph.types.enums import described_enum
from graph.types.relay import Node

TerritoryKindEnum = described_enum(
    TerritoryKind,
    name="TerritoryKind",
    description="What a territory is; its id's shape says the same (see `Territory.code`).",
    values={
        TerritoryKind.GLOBAL: "The federation's own territory, `global`.",
        TerritoryKind.COUNTRY: "A country; its id is the ISO 3166-1 alpha-2 code (`dk`).",
        TerritoryKind.FIRST_NATION: "A First Nation; its id is `fn_` and a slug (`fn_sami`).",
        TerritoryKind.COMMUNITY: "A community territory inside a parent territory; its id is "
        "`c_`, the parent's id and a slug (`c_dk_aarhus`).",
    },
)


@strawberry.type(description="A country, First Nation or community holding its own data.")
class Territory(TerritoryCommunities, Node):
    code: str = strawberry.field(
        description="The territory id, e.g. `dk`, `fn_sami`, `c_dk_aarhus`: lower-case ASCII, "
        "at most 48 characters. What every `territory` argument takes."
    )
    name: str = strawberry.field(description="Display name, e.g. `Denmark`.")
    kind: TerritoryKind = strawberry.field(description="What the territory is.")
    created_at: datetime = strawberry.field(
        description="When it joined the federation (ISO 8601, UTC)."
    )
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

    @strawberry.field(
        description="The territory this one belongs to (a community territory's country or "
        "First Nation); null for top-level territories and when the parent is not active."
    )
    async def parent(self, info: Info) -> Territory | None:
        if self.parent_code is None:
            return None
        return await resolve_territory(info, self.parent_code)


async def resolve_territory(info: Info, territory_id: str) -> Territory | None:
    """An active territory, or None: suspended and provisioning ones look missing."""
    record = await info.context.loaders.active_territory(territory_id)
    return None if record is None else Territory.from_record(record)
