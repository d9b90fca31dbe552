"""Batched reads of badge definitions and awards: one statement per batch and territory (global
definitions: one per batch on the main server)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncConnection

from db import badges as badge_db
from db.badges import (
    AwardPageKey,
    AwardRecord,
    DefinitionPageKey,
    DefinitionRecord,
    HistoryRecord,
    VersionText,
)
from domain.badges import GLOBAL_HOME
from graph.loaders.spec import GlobalLoader, Scope, TerritoryLoader


async def _definitions(
    conn: AsyncConnection, scope: Scope, keys: list[uuid.UUID]
) -> list[DefinitionRecord | None]:
    found = await badge_db.definitions_by_ids(conn, scope.territory_id, keys)
    return [found.get(k) for k in keys]


async def _global_definitions(
    conn: AsyncConnection, keys: list[uuid.UUID]
) -> list[DefinitionRecord | None]:
    found = await badge_db.definitions_by_ids(conn, GLOBAL_HOME, keys)
    return [found.get(k) for k in keys]


async def _versions(
    conn: AsyncConnection, scope: Scope, keys: list[tuple[uuid.UUID, int]]
) -> list[VersionText | None]:
    found = await badge_db.definition_versions(conn, scope.territory_id, keys)
    return [found.get(k) for k in keys]


async def _global_versions(
    conn: AsyncConnection, keys: list[tuple[uuid.UUID, int]]
) -> list[VersionText | None]:
    found = await badge_db.definition_versions(conn, GLOBAL_HOME, keys)
    return [found.get(k) for k in keys]


async def _definition_pages(
    conn: AsyncConnection, scope: Scope, keys: list[DefinitionPageKey]
) -> list[Sequence[DefinitionRecord]]:
    return [await badge_db.definition_page(conn, scope.territory_id, k) for k in keys]


async def _global_definition_pages(
    conn: AsyncConnection, keys: list[DefinitionPageKey]
) -> list[Sequence[DefinitionRecord]]:
    return [await badge_db.definition_page(conn, GLOBAL_HOME, k) for k in keys]


async def _awards(
    conn: AsyncConnection, scope: Scope, keys: list[uuid.UUID]
) -> list[AwardRecord | None]:
    found = await badge_db.awards_by_ids(conn, scope.territory_id, keys)
    return [found.get(k) for k in keys]


async def _awards_of_users(
    conn: AsyncConnection, scope: Scope, keys: list[uuid.UUID]
) -> list[Sequence[AwardRecord]]:
    found = await badge_db.awards_of_users(conn, scope.territory_id, keys)
    return [found.get(k, ()) for k in keys]


async def _award_pages(
    conn: AsyncConnection, scope: Scope, keys: list[AwardPageKey]
) -> list[Sequence[AwardRecord]]:
    return list(await badge_db.award_pages(conn, scope.territory_id, keys))


async def _histories(
    conn: AsyncConnection, scope: Scope, keys: list[uuid.UUID]
) -> list[Sequence[HistoryRecord]]:
    found = await badge_db.history_of(conn, keys)
    return [found.get(k, ()) for k in keys]


DEFINITION_BY_ID: TerritoryLoader[uuid.UUID, DefinitionRecord | None] = TerritoryLoader(
    "badges.definition_by_id", _definitions, missing=None
)
"""A territory's (or its communities') definition by id, as its current version describes it."""

GLOBAL_DEFINITION_BY_ID: GlobalLoader[uuid.UUID, DefinitionRecord | None] = GlobalLoader(
    "badges.global_definition_by_id", _global_definitions
)
"""A global definition by id."""

DEFINITION_VERSION: TerritoryLoader[tuple[uuid.UUID, int], VersionText | None] = TerritoryLoader(
    "badges.definition_version", _versions, missing=None
)
"""A territory's (or its communities') definition version by (id, version): what an award's
credential describes."""

GLOBAL_DEFINITION_VERSION: GlobalLoader[tuple[uuid.UUID, int], VersionText | None] = GlobalLoader(
    "badges.global_definition_version", _global_versions
)
"""A global definition version by (id, version)."""

DEFINITION_PAGE: TerritoryLoader[DefinitionPageKey, Sequence[DefinitionRecord]] = TerritoryLoader(
    "badges.definition_page", _definition_pages, missing=()
)
"""A page of a territory's definitions of one level (a root field: one key per request)."""

GLOBAL_DEFINITION_PAGE: GlobalLoader[DefinitionPageKey, Sequence[DefinitionRecord]] = GlobalLoader(
    "badges.global_definition_page", _global_definition_pages
)
"""A page of the global definitions."""

AWARD_BY_ID: TerritoryLoader[uuid.UUID, AwardRecord | None] = TerritoryLoader(
    "badges.award_by_id", _awards, missing=None
)
"""An award by id in its holder's territory; whoever reads it decides who may see it."""

AWARDS_OF_USER: TerritoryLoader[uuid.UUID, Sequence[AwardRecord]] = TerritoryLoader(
    "badges.awards_of_user", _awards_of_users, missing=()
)
"""Every award of a person, revoked and expired ones included: what permissions are made of."""

AWARD_PAGE: TerritoryLoader[AwardPageKey, Sequence[AwardRecord]] = TerritoryLoader(
    "badges.award_page", _award_pages, missing=()
)
"""A page of a person's awards, newest first, keyed by (user, include expired, after, limit + 1,
now)."""

AWARD_HISTORY: TerritoryLoader[uuid.UUID, Sequence[HistoryRecord]] = TerritoryLoader(
    "badges.award_history", _histories, missing=()
)
"""What happened to awards (awarded, renewed, revoked, expired), oldest first, by award id."""
