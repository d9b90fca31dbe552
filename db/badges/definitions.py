"""Badge definitions, in ``global`` (global level) or a territory's schema (territory and
community levels), same tables: reads, versioned writes, the prerequisite graph, core badges.
Callers pass a connection routed to the definition's home (the main server for ``global``)."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Table,
    bindparam,
    func,
    select,
    tuple_,
    update,
)
from sqlalchemy.dialects.postgresql import ARRAY, UUID
from sqlalchemy.ext.asyncio import AsyncConnection
from uuid_utils import compat as uuid7_source

from db.models import (
    badge_definition_versions,
    badge_definitions,
    badge_prerequisites,
    global_badge_definition_versions,
    global_badge_definitions,
    global_badge_prerequisites,
)
from domain.badges import (
    CODE_OF_CONDUCT,
    GLOBAL_HOME,
    TERRITORY_CORE_BADGES,
    AwardRule,
    BadgeContent,
    BadgeLevel,
    BadgeRef,
    CoreBadge,
    Permission,
    Scope,
    core_badge_ref,
)


def new_id() -> uuid.UUID:
    """UUIDv7: ordering by id is ordering by creation (pages of awards and definitions)."""
    return uuid7_source.uuid7()


@dataclass(frozen=True, slots=True)
class DefinitionRecord:
    """A definition as its current version describes it."""

    ref: BadgeRef
    level: BadgeLevel
    community_id: uuid.UUID | None
    core_key: str | None
    version: int
    name: str
    description: str
    criteria: str
    image: str | None
    category: str
    permissions: frozenset[Permission]
    prerequisites: tuple[BadgeRef, ...]
    validity_days: int | None
    rules: tuple[AwardRule, ...]
    created_at: datetime
    updated_at: datetime

    @property
    def scope(self) -> Scope:
        if self.level is BadgeLevel.GLOBAL:
            return Scope.everywhere()
        if self.level is BadgeLevel.TERRITORY:
            return Scope.territory(self.ref.home)
        assert self.community_id is not None
        return Scope.community(self.ref.home, self.community_id)


def ref_text(ref: BadgeRef) -> str:
    return f"{ref.home}:{ref.id}"


def parse_ref(value: str) -> BadgeRef:
    home, _, key = value.partition(":")
    return BadgeRef(home, uuid.UUID(key))


@dataclass(frozen=True, slots=True)
class _Tables:
    definitions: Table
    versions: Table
    prerequisites: Table


_GLOBAL = _Tables(
    global_badge_definitions, global_badge_definition_versions, global_badge_prerequisites
)
_TERRITORY = _Tables(badge_definitions, badge_definition_versions, badge_prerequisites)


def tables(home: str) -> _Tables:
    return _GLOBAL if home == GLOBAL_HOME else _TERRITORY


def _definition_columns(t: _Tables) -> tuple[Any, ...]:
    d, v = t.definitions.c, t.versions.c
    return (
        d.id,
        d.level,
        d.community_id,
        d.core_key,
        d.current_version,
        v.name,
        v.description,
        v.criteria,
        v.image,
        v.category,
        v.permissions,
        v.prerequisites,
        v.validity_days,
        v.rules,
        d.created_at,
        d.updated_at,
    )


def _current(t: _Tables) -> Any:
    return t.definitions.join(
        t.versions,
        (t.versions.c.definition_id == t.definitions.c.id)
        & (t.versions.c.version == t.definitions.c.current_version),
    )


def _definition(home: str, row: Sequence[Any]) -> DefinitionRecord:
    return DefinitionRecord(
        ref=BadgeRef(home, row[0]),
        level=BadgeLevel(row[1]),
        community_id=row[2],
        core_key=row[3],
        version=int(row[4]),
        name=str(row[5]),
        description=str(row[6]),
        criteria=str(row[7]),
        image=row[8],
        category=str(row[9]),
        permissions=frozenset(Permission(p) for p in row[10]),
        prerequisites=tuple(parse_ref(p) for p in row[11]),
        validity_days=row[12],
        rules=tuple(AwardRule(r["event"], int(r["threshold"])) for r in row[13]),
        created_at=row[14],
        updated_at=row[15],
    )


# --- definitions: reads


@dataclass(frozen=True, slots=True)
class VersionText:
    """What one version of a definition said: an award names the version it was given for, and
    its credential describes that version, not the current one."""

    name: str
    description: str
    criteria: str
    image: str | None


async def definition_versions(
    conn: AsyncConnection, home: str, keys: Sequence[tuple[uuid.UUID, int]]
) -> dict[tuple[uuid.UUID, int], VersionText]:
    """Versions by (definition id, version), one statement; unknown ones are absent."""
    v = tables(home).versions.c
    rows = await conn.execute(
        select(v.definition_id, v.version, v.name, v.description, v.criteria, v.image).where(
            tuple_(v.definition_id, v.version).in_(list(keys))
        )
    )
    return {(r[0], int(r[1])): VersionText(r[2], r[3], r[4], r[5]) for r in rows}


async def definitions_by_ids(
    conn: AsyncConnection, home: str, ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, DefinitionRecord]:
    t = tables(home)
    query = (
        select(*_definition_columns(t))
        .select_from(_current(t))
        .where(t.definitions.c.id == func.any(bindparam("ids", type_=ARRAY(UUID(as_uuid=True)))))
    )
    rows = await conn.execute(query, {"ids": list(ids)})
    return {rec.ref.id: rec for rec in (_definition(home, row) for row in rows)}


async def definition_by_core_key(
    conn: AsyncConnection, home: str, core_key: str
) -> DefinitionRecord | None:
    t = tables(home)
    row = (
        await conn.execute(
            select(*_definition_columns(t))
            .select_from(_current(t))
            .where(t.definitions.c.core_key == core_key)
        )
    ).first()
    return None if row is None else _definition(home, row)


DefinitionPageKey = tuple[BadgeLevel, uuid.UUID | None, uuid.UUID | None, int]
"""(level, community or None, definition id after which the page starts or None, rows)."""


async def definition_page(
    conn: AsyncConnection, home: str, key: DefinitionPageKey
) -> list[DefinitionRecord]:
    """One page of a home's definitions at a level (a community's only, when named), oldest
    first by id (UUIDv7)."""
    level, community, after, limit = key
    t = tables(home)
    d = t.definitions.c
    query = (
        select(*_definition_columns(t))
        .select_from(_current(t))
        .where(d.level == level.value)
        .order_by(d.id)
        .limit(limit)
    )
    if community is not None:
        query = query.where(d.community_id == community)
    if after is not None:
        query = query.where(d.id > after)
    return [_definition(home, row) for row in await conn.execute(query)]


# --- definitions: writes (inside a change's transaction)


async def create_definition(
    conn: AsyncConnection,
    home: str,
    *,
    level: BadgeLevel,
    community_id: uuid.UUID | None,
    core_key: str | None = None,
    content: Mapping[str, Any],
    prerequisites: Sequence[BadgeRef],
    definition_id: uuid.UUID | None = None,
) -> uuid.UUID:
    """A new definition at version 1 with its prerequisites; returns its id."""
    t = tables(home)
    key = definition_id or new_id()
    await conn.execute(
        t.definitions.insert().values(
            id=key, level=level.value, community_id=community_id, core_key=core_key
        )
    )
    await _write_version(conn, t, key, 1, content=content, prerequisites=prerequisites)
    return key


async def add_version(
    conn: AsyncConnection,
    home: str,
    definition_id: uuid.UUID,
    *,
    version: int,
    content: Mapping[str, Any],
    prerequisites: Sequence[BadgeRef],
) -> None:
    """Version ``version`` becomes current; the earlier ones stay (awards name theirs)."""
    t = tables(home)
    await conn.execute(
        update(t.definitions)
        .where(t.definitions.c.id == definition_id)
        .values(current_version=version, updated_at=func.now())
    )
    await conn.execute(
        t.prerequisites.delete().where(t.prerequisites.c.definition_id == definition_id)
    )
    await _write_version(
        conn, t, definition_id, version, content=content, prerequisites=prerequisites
    )


async def _write_version(
    conn: AsyncConnection,
    t: _Tables,
    definition_id: uuid.UUID,
    version: int,
    *,
    content: Mapping[str, Any],
    prerequisites: Sequence[BadgeRef],
) -> None:
    await conn.execute(
        t.versions.insert().values(
            definition_id=definition_id,
            version=version,
            prerequisites=[ref_text(r) for r in prerequisites],
            **content,
        )
    )
    if prerequisites:
        await conn.execute(
            t.prerequisites.insert(),
            [
                {
                    "definition_id": definition_id,
                    "prerequisite_home": r.home,
                    "prerequisite_id": r.id,
                }
                for r in prerequisites
            ],
        )


async def lock_definition(
    conn: AsyncConnection, home: str, definition_id: uuid.UUID
) -> DefinitionRecord | None:
    t = tables(home)
    locked = (
        await conn.execute(
            select(t.definitions.c.id).where(t.definitions.c.id == definition_id).with_for_update()
        )
    ).first()
    if locked is None:
        return None
    return (await definitions_by_ids(conn, home, [definition_id])).get(definition_id)


async def lock_prerequisite_graph(conn: AsyncConnection, home: str) -> None:
    """Serialise prerequisite edits of one home until the transaction ends, so two concurrent
    edits cannot close a cycle that neither saw."""
    await conn.execute(select(func.pg_advisory_xact_lock(func.hashtext(f"badges:{home}"))))


async def prerequisite_edges(conn: AsyncConnection, home: str) -> dict[BadgeRef, list[BadgeRef]]:
    """Every prerequisite edge of a home's definitions: the graph a cycle check walks (global
    edges point only to global badges, so a home's graph plus ``global``'s is the whole of it)."""
    t = tables(home)
    p = t.prerequisites.c
    edges: dict[BadgeRef, list[BadgeRef]] = {}
    for row in await conn.execute(select(p.definition_id, p.prerequisite_home, p.prerequisite_id)):
        edges.setdefault(BadgeRef(home, row[0]), []).append(BadgeRef(row[1], row[2]))
    return edges


def _core_content(badge: CoreBadge) -> BadgeContent:
    return BadgeContent(
        name=badge.name,
        description=badge.description,
        criteria=badge.criteria,
        category=badge.category,
        permissions=badge.permissions,
        validity_days=badge.validity_days,
    )


async def ensure_core_badges(conn: AsyncConnection, home: str) -> int:
    """Provision the core badges of ``home`` (the Code of Conduct in ``global``; the territory
    core badges elsewhere) unless present; idempotent. Returns how many were created."""
    wanted = (CODE_OF_CONDUCT,) if home == GLOBAL_HOME else TERRITORY_CORE_BADGES
    t = tables(home)
    created = 0
    for badge in wanted:
        ref = core_badge_ref(home, badge.key)
        exists = (
            await conn.execute(select(t.definitions.c.id).where(t.definitions.c.id == ref.id))
        ).first()
        if exists is not None:
            continue
        requires = [
            core_badge_ref(GLOBAL_HOME if key == CODE_OF_CONDUCT.key else home, key)
            for key in badge.requires
        ]
        await create_definition(
            conn,
            home,
            level=badge.level,
            community_id=None,
            core_key=badge.key,
            content=_core_content(badge).columns(),
            prerequisites=requires,
            definition_id=ref.id,
        )
        created += 1
    return created


async def definitions_with_rules(conn: AsyncConnection, home: str) -> list[DefinitionRecord]:
    t = tables(home)
    rows = await conn.execute(
        select(*_definition_columns(t))
        .select_from(_current(t))
        .where(func.jsonb_array_length(t.versions.c.rules) > 0)
    )
    return [_definition(home, row) for row in rows]
