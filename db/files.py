"""Queries of the files area: file rows, their variants and references, storage usage, and what
the collection job may delete."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, func, literal_column, select, text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection

from db.models import file_references, files
from domain.files import FilePurpose

AVATAR_REFERENCE = "profile.avatar"


@dataclass(frozen=True, slots=True)
class FileRecord:
    id: uuid.UUID
    owner_id: uuid.UUID
    purpose: FilePurpose
    cid: str
    media_type: str
    size: int
    filename: str
    width: int | None
    height: int | None
    variant_of: uuid.UUID | None
    variant: str | None
    created_at: datetime


@dataclass(frozen=True, slots=True)
class NewFile:
    """What an upload stores: the original, or (with ``variant``) one smaller copy of it."""

    cid: str
    media_type: str
    size: int
    filename: str
    width: int | None = None
    height: int | None = None
    variant: str | None = None


COLUMNS = (
    files.c.id,
    files.c.owner_id,
    files.c.purpose,
    files.c.cid,
    files.c.media_type,
    files.c.size,
    files.c.filename,
    files.c.width,
    files.c.height,
    files.c.variant_of,
    files.c.variant,
    files.c.created_at,
)


def _record(row: object) -> FileRecord:
    m = row._mapping  # type: ignore[attr-defined]
    return FileRecord(**{**m, "purpose": FilePurpose(m["purpose"])})


async def by_ids(conn: AsyncConnection, keys: Sequence[uuid.UUID]) -> dict[uuid.UUID, FileRecord]:
    rows = await conn.execute(select(*COLUMNS).where(files.c.id.in_(list(keys))))
    return {r.id: _record(r) for r in rows}


async def variants_of(
    conn: AsyncConnection, keys: Sequence[uuid.UUID]
) -> dict[uuid.UUID, list[FileRecord]]:
    """Each original's variants, smallest first."""
    rows = await conn.execute(
        select(*COLUMNS)
        .where(files.c.variant_of.in_(list(keys)))
        .order_by(files.c.variant_of, files.c.width)
    )
    found: dict[uuid.UUID, list[FileRecord]] = {}
    for row in rows:
        record = _record(row)
        found.setdefault(record.variant_of, []).append(record)  # type: ignore[arg-type]
    return found


async def references_of(
    conn: AsyncConnection, keys: Sequence[uuid.UUID]
) -> dict[uuid.UUID, list[tuple[str, uuid.UUID]]]:
    """(kind, object id) of what references each file."""
    rows = await conn.execute(
        select(
            file_references.c.file_id, file_references.c.kind, file_references.c.object_id
        ).where(file_references.c.file_id.in_(list(keys)))
    )
    found: dict[uuid.UUID, list[tuple[str, uuid.UUID]]] = {}
    for row in rows:
        found.setdefault(row.file_id, []).append((row.kind, row.object_id))
    return found


async def usage(
    conn: AsyncConnection, owner_ids: Sequence[uuid.UUID]
) -> tuple[dict[uuid.UUID, int], int]:
    """Bytes stored per owner in ``owner_ids`` and by the whole territory, in one statement."""
    rows = await conn.execute(
        select(files.c.owner_id, func.sum(files.c.size).label("bytes")).group_by(
            func.grouping_sets(files.c.owner_id, text("()"))
        )
    )
    per_owner: dict[uuid.UUID, int] = {}
    total = 0
    wanted = set(owner_ids)
    for row in rows:
        if row.owner_id is None:
            total = int(row.bytes or 0)
        elif row.owner_id in wanted:
            per_owner[row.owner_id] = int(row.bytes)
    return per_owner, total


async def lock_territory_storage(conn: AsyncConnection, territory_id: str) -> None:
    """Serialise quota checks and inserts in one territory until this transaction ends."""
    await conn.execute(
        select(func.pg_advisory_xact_lock(func.hashtextextended(f"files:{territory_id}", 0)))
    )


async def insert_file(
    conn: AsyncConnection, owner_id: uuid.UUID, purpose: FilePurpose, new: NewFile
) -> tuple[FileRecord, bool]:
    """The owner's file with these bytes for this purpose: inserted (True) or the existing one."""
    inserted = (
        await conn.execute(
            insert(files)
            .values(
                id=uuid.uuid4(),
                owner_id=owner_id,
                purpose=purpose.value,
                cid=new.cid,
                media_type=new.media_type,
                size=new.size,
                filename=new.filename,
                width=new.width,
                height=new.height,
            )
            .on_conflict_do_nothing(
                index_elements=["owner_id", "purpose", "cid"],
                index_where=files.c.variant_of.is_(None),
            )
            .returning(*COLUMNS)
        )
    ).one_or_none()
    if inserted is not None:
        return _record(inserted), True
    existing = (
        await conn.execute(
            select(*COLUMNS).where(
                files.c.owner_id == owner_id,
                files.c.purpose == purpose.value,
                files.c.cid == new.cid,
                files.c.variant_of.is_(None),
            )
        )
    ).one()
    return _record(existing), False


async def insert_variant(conn: AsyncConnection, original: FileRecord, new: NewFile) -> FileRecord:
    row = (
        await conn.execute(
            insert(files)
            .values(
                id=uuid.uuid4(),
                owner_id=original.owner_id,
                purpose=original.purpose.value,
                cid=new.cid,
                media_type=new.media_type,
                size=new.size,
                filename=new.filename,
                width=new.width,
                height=new.height,
                variant_of=original.id,
                variant=new.variant,
            )
            .returning(*COLUMNS)
        )
    ).one()
    return _record(row)


async def lock_file(conn: AsyncConnection, key: uuid.UUID) -> FileRecord | None:
    row = (
        await conn.execute(select(*COLUMNS).where(files.c.id == key).with_for_update())
    ).one_or_none()
    return None if row is None else _record(row)


async def replace_reference(
    conn: AsyncConnection, kind: str, object_id: uuid.UUID, file_id: uuid.UUID | None
) -> None:
    """Make ``file_id`` (or nothing) the one file ``kind`` of ``object_id`` references."""
    await conn.execute(
        delete(file_references).where(
            file_references.c.kind == kind, file_references.c.object_id == object_id
        )
    )
    if file_id is not None:
        await conn.execute(
            insert(file_references)
            .values(file_id=file_id, kind=kind, object_id=object_id)
            .on_conflict_do_nothing()
        )


async def claim_unreferenced(
    conn: AsyncConnection, created_before: datetime, limit: int
) -> list[FileRecord]:
    """Delete up to ``limit`` originals nobody references, created before ``created_before``
    (their variants go with them), and return every deleted row. Rows another collector holds
    are skipped (FOR UPDATE SKIP LOCKED), so replicas never delete the same file twice."""
    unreferenced = (
        select(files.c.id)
        .where(
            files.c.variant_of.is_(None),
            files.c.created_at < created_before,
            ~select(literal_column("1")).where(file_references.c.file_id == files.c.id).exists(),
        )
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    ids = [r.id for r in await conn.execute(unreferenced)]
    if not ids:
        return []
    rows = await conn.execute(
        delete(files).where(files.c.id.in_(ids) | files.c.variant_of.in_(ids)).returning(*COLUMNS)
    )
    return [_record(r) for r in rows]


async def cids_in_use(conn: AsyncConnection, cids: Sequence[str]) -> set[str]:
    """Which of ``cids`` some row of this territory still stores."""
    if not cids:
        return set()
    rows = await conn.execute(select(files.c.cid).where(files.c.cid.in_(list(cids))).distinct())
    return {r.cid for r in rows}
