"""Batched reads of communities and memberships, one statement per batch and territory."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncConnection

from db import communities as community_db
from db.communities import CommunityRecord, MemberPageKey, MembershipRecord, PublicPageKey
from graph.loaders.profiles import ProfileSight, sight_of, viewer_of
from graph.loaders.spec import Scope, TerritoryLoader

Joined = Sequence[tuple[MembershipRecord, CommunityRecord]]
"""A person's memberships, each with its community, oldest first."""


async def _by_ids(
    conn: AsyncConnection, scope: Scope, keys: list[uuid.UUID]
) -> list[CommunityRecord | None]:
    found = await community_db.by_ids(conn, scope.territory_id, keys)
    return [found.get(k) for k in keys]


async def _public_pages(
    conn: AsyncConnection, scope: Scope, keys: list[PublicPageKey]
) -> list[Sequence[CommunityRecord]]:
    return list(await community_db.public_pages(conn, scope.territory_id, keys))


async def _of_users(conn: AsyncConnection, scope: Scope, keys: list[uuid.UUID]) -> list[Joined]:
    found = await community_db.of_users(conn, scope.territory_id, keys)
    return [found.get(k, ()) for k in keys]


Member = tuple[MembershipRecord, ProfileSight | None]
"""A member and what the caller may see of their profile (None: not an active account)."""


async def _member_pages(
    conn: AsyncConnection, scope: Scope, keys: list[MemberPageKey]
) -> list[Sequence[Member]]:
    pages = await community_db.member_pages(conn, scope.territory_id, keys, viewer_of(scope.caller))
    return [
        [
            (membership, sight_of(scope.caller, row) if row.status == "active" else None)
            for membership, row in page
        ]
        for page in pages
    ]


COMMUNITY_BY_ID: TerritoryLoader[uuid.UUID, CommunityRecord | None] = TerritoryLoader(
    "communities.by_id", _by_ids, missing=None
)
"""Any community by id, public or not: whoever reads it decides who may see it."""

PUBLIC_PAGE: TerritoryLoader[PublicPageKey, Sequence[CommunityRecord]] = TerritoryLoader(
    "communities.public_page", _public_pages, missing=()
)
"""A page of the territory's public communities by slug, keyed by (after slug, limit + 1)."""

MEMBERSHIPS_OF_USER: TerritoryLoader[uuid.UUID, Joined] = TerritoryLoader(
    "communities.memberships_of_user", _of_users, missing=()
)
"""An account's memberships with their communities."""

MEMBER_PAGE: TerritoryLoader[MemberPageKey, Sequence[Member]] = TerritoryLoader(
    "communities.member_page", _member_pages, missing=()
)
"""A page of a community's members with their profiles as the caller sees them, keyed by
(community, after, limit + 1). Whether the caller may list them is decided before
(``domain.communities.can_list_members``): no read when not."""
