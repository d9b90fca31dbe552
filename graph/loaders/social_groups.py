"""Social group reads in the owner's territory; only ever asked for on the owner's behalf."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncConnection

from db import social_groups as group_db
from db.social_groups import GroupRecord, MemberRef
from graph.loaders.spec import Scope, TerritoryLoader


def _display_order(group: GroupRecord) -> tuple[bool, str, str]:
    return (group.kind == "custom", group.kind, group.name.lower())


async def _groups(
    conn: AsyncConnection, scope: Scope, keys: list[uuid.UUID]
) -> list[Sequence[GroupRecord]]:
    """Family and Friends first even before they were ever written.

    Default groups have ids derived from the owner (``default_group_id``), so a read never has
    to write them: the first change (``ensure_defaults``) creates them under the same ids.
    """
    found = await group_db.groups_of(conn, keys)
    now = datetime.now(UTC)
    result: list[Sequence[GroupRecord]] = []
    for owner in keys:
        groups = found.get(owner, [])
        kinds = {g.kind for g in groups}
        defaults = [
            GroupRecord(group_db.default_group_id(owner, kind), owner, kind, name, now)
            for kind, name in group_db.DEFAULT_GROUPS
            if kind not in kinds
        ]
        result.append(sorted([*defaults, *groups], key=_display_order))
    return result


GROUPS_OF_OWNER: TerritoryLoader[uuid.UUID, Sequence[GroupRecord]] = TerritoryLoader(
    "social_groups.groups_of_owner", _groups, missing=()
)
"""owner id -> their groups, Family and Friends first, then custom ones by name."""


async def _members(
    conn: AsyncConnection, scope: Scope, keys: list[uuid.UUID]
) -> list[Sequence[MemberRef]]:
    found = await group_db.members_of(conn, keys)
    return [found.get(k, ()) for k in keys]


MEMBERS_OF_GROUP: TerritoryLoader[uuid.UUID, Sequence[MemberRef]] = TerritoryLoader(
    "social_groups.members_of_group", _members, missing=()
)
"""group id -> its members (any territory), oldest first."""
