"""File reads in the owner's territory: rows by id, variants, references and storage usage."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncConnection

from db import files as file_db
from db.files import FileRecord
from graph.loaders.spec import Scope, TerritoryLoader


async def _by_id(
    conn: AsyncConnection, scope: Scope, keys: list[uuid.UUID]
) -> list[FileRecord | None]:
    found = await file_db.by_ids(conn, keys)
    return [found.get(k) for k in keys]


FILE_BY_ID: TerritoryLoader[uuid.UUID, FileRecord | None] = TerritoryLoader(
    "files.by_id", _by_id, missing=None
)


async def _variants(
    conn: AsyncConnection, scope: Scope, keys: list[uuid.UUID]
) -> list[Sequence[FileRecord]]:
    found = await file_db.variants_of(conn, keys)
    return [found.get(k, []) for k in keys]


VARIANTS_OF_FILE: TerritoryLoader[uuid.UUID, Sequence[FileRecord]] = TerritoryLoader(
    "files.variants_of_file", _variants, missing=()
)
"""original's id -> its smaller copies, smallest first."""


async def _references(
    conn: AsyncConnection, scope: Scope, keys: list[uuid.UUID]
) -> list[Sequence[tuple[str, uuid.UUID]]]:
    found = await file_db.references_of(conn, keys)
    return [found.get(k, []) for k in keys]


REFERENCES_OF_FILE: TerritoryLoader[uuid.UUID, Sequence[tuple[str, uuid.UUID]]] = TerritoryLoader(
    "files.references_of_file", _references, missing=()
)
"""file id -> (kind, object id) of what references it."""


async def _usage(
    conn: AsyncConnection, scope: Scope, keys: list[uuid.UUID]
) -> list[tuple[int, int]]:
    per_owner, total = await file_db.usage(conn, keys)
    return [(per_owner.get(k, 0), total) for k in keys]


STORAGE_USAGE: TerritoryLoader[uuid.UUID, tuple[int, int]] = TerritoryLoader(
    "files.storage_usage", _usage, missing=(0, 0)
)
"""owner id -> (bytes the owner stores, bytes the whole territory stores)."""
