"""Profile reads: each spec is ONE statement per batch in the owner's territory.

``PROFILE_VIEWS`` decides privacy in the batch: the caller is fixed for the request, so the
relation to each owner and the fields it may see are computed once per profile, next to the row
that holds the facts, and every path to a profile reads the same decision.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncConnection

from db import profiles as profile_db
from db.profiles import ProfileRow, SocialLinkRecord
from db.social_groups import GroupRecord
from domain.callers import Caller
from domain.privacy import ProfileField, Relation, Viewer, relation_of, visible_fields
from graph.loaders.spec import Scope, TerritoryLoader


def viewer_of(caller: Caller) -> Viewer:
    return Viewer(caller.territory_id, caller.user_id)


@dataclass(frozen=True, slots=True)
class ProfileSight:
    """An active person's profile row and what the request's caller may see of it."""

    row: ProfileRow
    relation: Relation
    visible: frozenset[ProfileField]


def sight_of(caller: Caller, row: ProfileRow) -> ProfileSight:
    relation = relation_of(
        viewer_of(caller),
        owner_territory=row.territory_id,
        owner_id=str(row.user_id),
        owner_groups_holding_viewer=row.viewer_group_kinds,
        shares_community=row.shares_community,
    )
    visible = visible_fields(relation, row.preset, row.overrides, row.viewer_grants)
    return ProfileSight(row, relation, visible)


async def _views(
    conn: AsyncConnection, scope: Scope, keys: list[uuid.UUID]
) -> list[ProfileSight | None]:
    found = await profile_db.views(conn, scope.territory_id, keys, viewer_of(scope.caller))
    sights: list[ProfileSight | None] = []
    for key in keys:
        row = found.get(key)
        sights.append(
            None if row is None or row.status != "active" else sight_of(scope.caller, row)
        )
    return sights


PROFILE_VIEWS = TerritoryLoader("profiles.views", _views, missing=None)
"""user id -> the profile as the caller sees it; None for no active account of that id."""


async def _languages(
    conn: AsyncConnection, scope: Scope, keys: list[uuid.UUID]
) -> list[Sequence[tuple[str, str]]]:
    found = await profile_db.languages_of(conn, keys)
    return [found.get(k, ()) for k in keys]


LANGUAGES_OF_USER: TerritoryLoader[uuid.UUID, Sequence[tuple[str, str]]] = TerritoryLoader(
    "profiles.languages_of_user", _languages, missing=()
)
"""user id -> (BCP 47 tag, level value), best first. Unfiltered: read only for visible fields."""


async def _links(
    conn: AsyncConnection, scope: Scope, keys: list[uuid.UUID]
) -> list[Sequence[SocialLinkRecord]]:
    found = await profile_db.links_of(conn, keys)
    return [found.get(k, ()) for k in keys]


SOCIAL_LINKS_OF_USER: TerritoryLoader[uuid.UUID, Sequence[SocialLinkRecord]] = TerritoryLoader(
    "profiles.social_links_of_user", _links, missing=()
)
"""user id -> their links, oldest first. Unfiltered: read only for visible fields."""


async def _link(
    conn: AsyncConnection, scope: Scope, keys: list[uuid.UUID]
) -> list[SocialLinkRecord | None]:
    found = await profile_db.links_by_ids(conn, keys)
    return [found.get(k) for k in keys]


SOCIAL_LINK = TerritoryLoader("profiles.social_link", _link, missing=None)
"""link id -> the link; unfiltered: the owner's privacy is decided through ``PROFILE_VIEWS``."""


async def _grants(
    conn: AsyncConnection, scope: Scope, keys: list[uuid.UUID]
) -> list[Sequence[tuple[str, GroupRecord]]]:
    found = await profile_db.grants_of(conn, keys)
    return [found.get(k, ()) for k in keys]


VISIBILITY_GRANTS_OF_OWNER: TerritoryLoader[uuid.UUID, Sequence[tuple[str, GroupRecord]]] = (
    TerritoryLoader("profiles.visibility_grants_of_owner", _grants, missing=())
)
"""owner id -> (scope, group) of each setting shared with a group: the owner's eyes only."""
