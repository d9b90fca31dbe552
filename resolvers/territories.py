"""Root queries over the territory registry."""

from __future__ import annotations

from typing import Annotated

import strawberry

from db import territories as territory_db
from domain.errors import NotFound, input_field
from domain.territories import TerritoryKind, validate_territory_id
from graph.context import Info
from graph.ids import decode_cursor
from graph.permissions import Public
from graph.types.relay import After, Connection, First, connection, page_size
from graph.types.territories import Territory, resolve_territory
from unityplan.settings import MAIN_SERVER


@strawberry.type
class TerritoryQueries:
    @strawberry.field(
        description="Active territories ordered by id; suspended and provisioning ones are not "
        "listed. BAD_USER_INPUT for a malformed page argument.",
        permission_classes=[Public],
    )
    async def territories(
        self,
        info: Info,
        first: First = None,
        after: After = None,
        kind: Annotated[
            TerritoryKind | None,
            strawberry.argument(description="Only territories of this kind; all when omitted."),
        ] = None,
    ) -> Connection[Territory]:
        limit = page_size(first)
        after_id = decode_cursor(after)
        if after_id is not None:
            with input_field("after"):
                validate_territory_id(after_id)
        # A root list is read once per request: no batch to share, but the request's read
        # connection (no transaction round trips).
        async with info.context.loaders.reading(MAIN_SERVER, None) as conn:
            rows = await territory_db.page(conn, after=after_id, limit=limit + 1, kind=kind)
        info.context.loaders.prime_territories(rows)
        return connection(
            rows, limit, sort_key=lambda r: r.id, node=Territory.from_record, after=after_id
        )

    @strawberry.field(
        description="One active territory by its id; BAD_USER_INPUT for a malformed id, "
        "NOT_FOUND when no active territory has it.",
        permission_classes=[Public],
    )
    async def territory(
        self,
        info: Info,
        id: Annotated[
            str,
            strawberry.argument(description="The territory id (`Territory.code`), e.g. `dk`."),
        ],
    ) -> Territory | None:
        with input_field("id"):
            found = await resolve_territory(info, validate_territory_id(id))
        if found is None:
            raise NotFound(f"No territory '{id}'.", field="id")
        return found
