"""Root fields of the badges area: the catalogue (``badges``), node lookups, and (below) the
definition and award mutations."""

from __future__ import annotations

import uuid
from typing import Annotated

import strawberry

from db.badges import DefinitionPageKey
from domain.accounts import can_read_account
from domain.badges import GLOBAL_HOME, BadgeLevel, BadgeRef
from domain.errors import BadUserInput, NotFound, input_field
from domain.territories import validate_territory_id
from graph import badge_access, ids
from graph.context import Info
from graph.loaders.badges import AWARD_BY_ID, DEFINITION_PAGE, GLOBAL_DEFINITION_PAGE
from graph.permissions import Public
from graph.types.badges import Badge, BadgeAward
from graph.types.relay import After, Connection, First, Node, connection, page_size
from resolvers.common import key_of


async def badge_node(info: Info, key: ids.NodeKey) -> Node | None:
    """``node(id:)`` for a ``Badge``: definitions are a public catalogue."""
    found = await badge_access.definition(info, BadgeRef(key.territory_id, ids.parse_uuid(key.key)))
    return None if found is None else Badge.from_record(found)


async def award_by_id(info: Info, territory_id: str, award_id: uuid.UUID) -> BadgeAward | None:
    """An award if the caller may read its holder's account (oneself, the territory's managers
    and moderators, global admins); None otherwise, as for a missing one."""
    record = await info.context.loaders.get(AWARD_BY_ID, territory_id).load(award_id)
    if record is None or not can_read_account(info.context.caller, territory_id, record.user_id):
        return None
    return BadgeAward.from_record(record, info.context.clock())


async def award_node(info: Info, key: ids.NodeKey) -> Node | None:
    return await award_by_id(info, key.territory_id, ids.parse_uuid(key.key))


def community_key(value: str | None, territory_id: str | None) -> uuid.UUID | None:
    """The key of a ``Community`` id, which must belong to ``territory_id``."""
    if value is None:
        return None
    home, key = key_of(value, "Community", field="community")
    if home != territory_id:
        raise BadUserInput("The community is not in that territory.", field="community")
    return key


@strawberry.type
class BadgeQueries:
    @strawberry.field(
        description="Badge definitions of one level, oldest first: global ones (no "
        "`territory`), a territory's (`territory`), or community ones of a territory (`territory`, "
        "optionally one `community`). Anyone may read the catalogue. BAD_USER_INPUT for a "
        "missing or extra `territory`/`community`; NOT_FOUND for an unknown territory.",
        permission_classes=[Public],
    )
    async def badges(
        self,
        info: Info,
        *,
        level: Annotated[BadgeLevel, strawberry.argument(description="Which level to list.")],
        territory: Annotated[
            str | None,
            strawberry.argument(
                description="The territory (`Territory.code`) of territory and community "
                "badges; omitted for global ones."
            ),
        ] = None,
        community: Annotated[
            strawberry.ID | None,
            strawberry.argument(
                description="Only this community's badges (a `Community` id of `territory`)."
            ),
        ] = None,
        first: First = None,
        after: After = None,
    ) -> Connection[Badge]:
        limit = page_size(first)
        cursor = ids.decode_cursor(after)
        after_id = None if cursor is None else ids.parse_uuid(cursor)
        if level is BadgeLevel.GLOBAL:
            if territory is not None or community is not None:
                raise BadUserInput("Global badges belong to no territory.", field="territory")
            key: DefinitionPageKey = (level, None, after_id, limit + 1)
            rows = await info.context.loaders.get_global(GLOBAL_DEFINITION_PAGE).load(key)
        else:
            if territory is None:
                raise BadUserInput("Name the territory.", field="territory")
            with input_field("territory"):
                territory_id = validate_territory_id(territory)
            if territory_id == GLOBAL_HOME:
                raise BadUserInput("Name a territory, not `global`.", field="territory")
            if await info.context.loaders.active_territory(territory_id) is None:
                raise NotFound(f"No territory '{territory}'.", field="territory")
            if community is not None and level is not BadgeLevel.COMMUNITY:
                raise BadUserInput("Only community badges have a community.", field="community")
            key = (level, community_key(community, territory_id), after_id, limit + 1)
            rows = await info.context.loaders.get(DEFINITION_PAGE, territory_id).load(key)
        return connection(
            rows, limit, sort_key=lambda r: str(r.ref.id), node=Badge.from_record, after=after
        )
