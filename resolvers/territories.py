"""Root queries over the territory registry."""

from __future__ import annotations

import strawberry

from db import territories as registry
from domain.errors import NotFound
from domain.territories import TerritoryKind, validate_territory_id
from graph.context import Info
from graph.ids import decode_cursor
from graph.permissions import Public
from graph.types.relay import Connection, connection, page_size
from graph.types.territories import Territory, resolve_territory
from unityplan.settings import MAIN_SERVER


@strawberry.type
class TerritoryQueries:
    @strawberry.field(description="Active territories ordered by id.", permission_classes=[Public])
    async def territories(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        kind: TerritoryKind | None = None,
    ) -> Connection[Territory]:
        limit = page_size(first)
        after_id = decode_cursor(after)
        if after_id is not None:
            validate_territory_id(after_id)
        async with info.context.db.connect(MAIN_SERVER) as conn:
            rows = await registry.page(conn, after=after_id, limit=limit + 1, kind=kind)
        info.context.loaders.prime_territories(rows)
        return connection(
            rows, limit, sort_key=lambda r: r.id, node=Territory.from_record, after=after_id
        )

    @strawberry.field(
        description="One active territory by its id (e.g. `dk`); NOT_FOUND if none.",
        permission_classes=[Public],
    )
    async def territory(self, info: Info, id: str) -> Territory | None:
        found = await resolve_territory(info, validate_territory_id(id))
        if found is None:
            raise NotFound(f"No territory '{id}'.")
        return found
