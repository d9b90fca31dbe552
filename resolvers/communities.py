"""Root queries over communities."""

from __future__ import annotations

import strawberry

from domain.errors import NotFound
from domain.territories import validate_territory_id
from graph.context import Info
from graph.permissions import Public
from graph.types.community import Community, public_communities
from graph.types.relay import Connection


@strawberry.type
class CommunityQueries:
    @strawberry.field(
        description="A territory's public communities, by slug.", permission_classes=[Public]
    )
    async def communities(
        self, info: Info, territory: str, first: int | None = None, after: str | None = None
    ) -> Connection[Community]:
        territory_id = validate_territory_id(territory)
        if await info.context.loaders.active_territory(territory_id) is None:
            raise NotFound(f"No territory '{territory}'.")
        return await public_communities(info, territory_id, first=first, after=after)
