"""What the badge resolvers share: who may manage badges at a level, and the ids inputs name."""

from __future__ import annotations

import uuid

from domain.badges import (
    GLOBAL_HOME,
    BadgeLevel,
    BadgeRef,
    can_define,
)
from domain.communities import CommunityRole
from domain.errors import BadUserInput
from graph.context import Info
from graph.types.communities import viewer_role
from resolvers.common import key_of


def community_key(value: str | None, territory_id: str | None) -> uuid.UUID | None:
    """The key of a ``Community`` id, which must belong to ``territory_id``."""
    if value is None:
        return None
    home, key = key_of(value, "Community", field="community")
    if home != territory_id:
        raise BadUserInput("The community is not in that territory.", field="community")
    return key


async def may_manage(info: Info, level: BadgeLevel, home: str, community: uuid.UUID | None) -> bool:
    """Define, edit, award and revoke at this level: global admins; a territory's managers; a
    community's admins (community badges)."""
    territory_id = None if home == GLOBAL_HOME else home
    admin = False
    if community is not None and territory_id is not None:
        admin = await viewer_role(info, territory_id, community) is CommunityRole.ADMIN
    return can_define(info.context.caller.roles, level, territory_id, community_admin=admin)


def badge_ref(value: str, *, field: str) -> BadgeRef:
    home, key = key_of(value, "Badge", field=field)
    return BadgeRef(home, key)
