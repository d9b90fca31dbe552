"""Badge definitions (in ``global`` or a territory's schema) and awards (in the holder's territory
schema). Callers pass a connection already routed: to the main server for ``global`` definitions,
to the territory for the rest.

Every batch read is ONE statement whatever the number of keys (keys travel as arrays), so a
request's statements grow with the territories it touches, never with rows.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    Boolean,
    DateTime,
    Integer,
    Table,
    bindparam,
    func,
    or_,
    select,
    true,
    update,
)
from sqlalchemy.dialects.postgresql import ARRAY, UUID
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncConnection
from uuid_utils import compat as uuid7_source

from db.models import (
    badge_award_history,
    badge_awards,
    badge_definition_versions,
    badge_definitions,
    badge_prerequisites,
    global_badge_definition_versions,
    global_badge_definitions,
    global_badge_prerequisites,
)
from domain.badges import (
    GLOBAL_HOME,
    AwardRule,
    BadgeLevel,
    BadgeRef,
    HeldBadge,
    Permission,
    Scope,
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


@dataclass(frozen=True, slots=True)
class AwardRecord:
    id: uuid.UUID
    territory_id: str
    user_id: uuid.UUID
    badge: BadgeRef
    version: int
    awarded_at: datetime
    valid_from: datetime
    valid_until: datetime | None
    revoked_at: datetime | None
    revoke_reason: str | None
    expired_at: datetime | None
    source: str
    reason: str

    def held(self, definition: DefinitionRecord) -> HeldBadge:
        """This award with its definition's facts: what the permission rule weighs."""
        return HeldBadge(
            ref=self.badge,
            scope=definition.scope,
            permissions=definition.permissions,
            prerequisites=frozenset(definition.prerequisites),
            valid_from=self.valid_from,
            valid_until=self.valid_until,
            revoked_at=self.revoked_at,
        )


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


# --- awards: reads

_AWARD = (
    badge_awards.c.id,
    badge_awards.c.user_id,
    badge_awards.c.badge_home,
    badge_awards.c.badge_id,
    badge_awards.c.version,
    badge_awards.c.awarded_at,
    badge_awards.c.valid_from,
    badge_awards.c.valid_until,
    badge_awards.c.revoked_at,
    badge_awards.c.revoke_reason,
    badge_awards.c.expired_at,
    badge_awards.c.source,
    badge_awards.c.reason,
)


def _award(territory_id: str, row: Sequence[Any]) -> AwardRecord:
    return AwardRecord(
        id=row[0],
        territory_id=territory_id,
        user_id=row[1],
        badge=BadgeRef(row[2], row[3]),
        version=int(row[4]),
        awarded_at=row[5],
        valid_from=row[6],
        valid_until=row[7],
        revoked_at=row[8],
        revoke_reason=row[9],
        expired_at=row[10],
        source=str(row[11]),
        reason=str(row[12]),
    )


async def awards_by_ids(
    conn: AsyncConnection, territory_id: str, ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, AwardRecord]:
    query = select(*_AWARD).where(
        badge_awards.c.id == func.any(bindparam("ids", type_=ARRAY(UUID(as_uuid=True))))
    )
    rows = await conn.execute(query, {"ids": list(ids)})
    return {rec.id: rec for rec in (_award(territory_id, row) for row in rows)}


async def awards_of_users(
    conn: AsyncConnection, territory_id: str, user_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, list[AwardRecord]]:
    """Every award of each user (revoked and expired ones too: the permission rule decides)."""
    query = select(*_AWARD).where(
        badge_awards.c.user_id == func.any(bindparam("users", type_=ARRAY(UUID(as_uuid=True))))
    )
    found: dict[uuid.UUID, list[AwardRecord]] = {}
    for row in await conn.execute(query, {"users": list(user_ids)}):
        award = _award(territory_id, row)
        found.setdefault(award.user_id, []).append(award)
    return found


AwardPageKey = tuple[uuid.UUID, bool, uuid.UUID | None, int, datetime]
"""(user, include expired and revoked, award id after which the page starts or None, rows,
the instant that decides what has expired)."""

_AWARD_KEYS = (
    func.unnest(
        bindparam("users", type_=ARRAY(UUID(as_uuid=True))),
        bindparam("all", type_=ARRAY(Boolean)),
        bindparam("afters", type_=ARRAY(UUID(as_uuid=True))),
        bindparam("limits", type_=ARRAY(Integer)),
    )
    .table_valued("user_id", "include_all", "after_id", "lim", with_ordinality="idx")
    .render_derived(name="k")
)
_NOW = bindparam("now", type_=DateTime(timezone=True))
_AWARD_PAGE = (
    select(*_AWARD)
    .where(
        badge_awards.c.user_id == _AWARD_KEYS.c.user_id,
        or_(_AWARD_KEYS.c.after_id.is_(None), badge_awards.c.id < _AWARD_KEYS.c.after_id),
        or_(
            _AWARD_KEYS.c.include_all,
            badge_awards.c.revoked_at.is_(None)
            & or_(badge_awards.c.valid_until.is_(None), badge_awards.c.valid_until > _NOW),
        ),
    )
    .order_by(badge_awards.c.id.desc())
    .limit(_AWARD_KEYS.c.lim)
    .lateral("page")
)
_AWARD_PAGES = (
    select(_AWARD_KEYS.c.idx, *_AWARD_PAGE.c)
    .select_from(_AWARD_KEYS.join(_AWARD_PAGE, true()))
    .order_by(_AWARD_KEYS.c.idx, _AWARD_PAGE.c.id.desc())
)


async def award_pages(
    conn: AsyncConnection, territory_id: str, keys: Sequence[AwardPageKey]
) -> list[list[AwardRecord]]:
    """Pages of each user's awards, newest first (keyset on the UUIDv7 id), all in ONE
    statement: a LATERAL page per key. Keys of one batch share one ``now`` (the request's)."""
    if not keys:
        return []
    params = {
        "users": [k[0] for k in keys],
        "all": [k[1] for k in keys],
        "afters": [k[2] for k in keys],
        "limits": [k[3] for k in keys],
        "now": max(k[4] for k in keys),
    }
    found: list[list[AwardRecord]] = [[] for _ in keys]
    for row in await conn.execute(_AWARD_PAGES, params):
        found[row[0] - 1].append(_award(territory_id, row[1:]))
    return found


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


async def prerequisite_edges(conn: AsyncConnection, home: str) -> dict[BadgeRef, list[BadgeRef]]:
    """Every prerequisite edge of a home's definitions: the graph a cycle check walks (global
    edges point only to global badges, so a home's graph plus ``global``'s is the whole of it)."""
    t = tables(home)
    p = t.prerequisites.c
    edges: dict[BadgeRef, list[BadgeRef]] = {}
    for row in await conn.execute(select(p.definition_id, p.prerequisite_home, p.prerequisite_id)):
        edges.setdefault(BadgeRef(home, row[0]), []).append(BadgeRef(row[1], row[2]))
    return edges


# --- awards: writes


async def lock_award_of(
    conn: AsyncConnection, territory_id: str, user_id: uuid.UUID, badge: BadgeRef
) -> AwardRecord | None:
    row = (
        await conn.execute(
            select(*_AWARD)
            .where(
                badge_awards.c.user_id == user_id,
                badge_awards.c.badge_home == badge.home,
                badge_awards.c.badge_id == badge.id,
            )
            .with_for_update()
        )
    ).first()
    return None if row is None else _award(territory_id, row)


async def lock_award(
    conn: AsyncConnection, territory_id: str, award_id: uuid.UUID
) -> AwardRecord | None:
    row = (
        await conn.execute(select(*_AWARD).where(badge_awards.c.id == award_id).with_for_update())
    ).first()
    return None if row is None else _award(territory_id, row)


async def grant(
    conn: AsyncConnection,
    territory_id: str,
    *,
    user_id: uuid.UUID,
    definition: DefinitionRecord,
    now: datetime,
    source: str,
    reason: str,
    actor: bytes | None,
) -> tuple[AwardRecord, str]:
    """Award ``definition`` to the user, or renew their award (a revoked or expired one too):
    the version and validity are the current ones, ``awarded_at`` stays the first award's.
    Returns the award and what happened (``awarded`` or ``renewed``); history records it."""
    until = None if definition.validity_days is None else now + timedelta(definition.validity_days)
    values = {
        "version": definition.version,
        "valid_from": now,
        "valid_until": until,
        "revoked_at": None,
        "revoke_reason": None,
        "expired_at": None,
        "source": source,
        "reason": reason,
    }
    insert = pg_insert(badge_awards).values(
        id=new_id(),
        user_id=user_id,
        badge_home=definition.ref.home,
        badge_id=definition.ref.id,
        awarded_at=now,
        **values,
    )
    statement = insert.on_conflict_do_update(
        constraint="uq_badge_awards_holder_badge",
        set_={**values, "updated_at": func.now()},
    ).returning(*_AWARD, (badge_awards.c.awarded_at == now).label("fresh"))
    row = (await conn.execute(statement)).one()
    award = _award(territory_id, row)
    action = "awarded" if row[-1] else "renewed"
    await record_history(conn, award, action, reason=reason, actor=actor)
    return award, action


async def revoke(
    conn: AsyncConnection, award: AwardRecord, *, now: datetime, reason: str, actor: bytes | None
) -> AwardRecord:
    row = (
        await conn.execute(
            update(badge_awards)
            .where(badge_awards.c.id == award.id)
            .values(revoked_at=now, revoke_reason=reason, updated_at=func.now())
            .returning(*_AWARD)
        )
    ).one()
    revoked = _award(award.territory_id, row)
    await record_history(conn, revoked, "revoked", reason=reason, actor=actor)
    return revoked


async def record_history(
    conn: AsyncConnection, award: AwardRecord, action: str, *, reason: str, actor: bytes | None
) -> None:
    await conn.execute(
        badge_award_history.insert().values(
            award_id=award.id,
            action=action,
            version=award.version,
            valid_until=award.valid_until,
            reason=reason,
            actor=actor,
        )
    )


@dataclass(frozen=True, slots=True)
class HistoryRecord:
    action: str
    version: int
    valid_until: datetime | None
    reason: str
    at: datetime


async def history_of(
    conn: AsyncConnection, award_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, list[HistoryRecord]]:
    h = badge_award_history.c
    rows = await conn.execute(
        select(h.award_id, h.action, h.version, h.valid_until, h.reason, h.at)
        .where(h.award_id == func.any(bindparam("ids", type_=ARRAY(UUID(as_uuid=True)))))
        .order_by(h.award_id, h.id),
        {"ids": list(award_ids)},
    )
    found: dict[uuid.UUID, list[HistoryRecord]] = {}
    for row in rows:
        found.setdefault(row[0], []).append(HistoryRecord(row[1], row[2], row[3], row[4], row[5]))
    return found
