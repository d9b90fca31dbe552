"""Badge awards, always in the holder's territory schema whatever the badge's level: batched
reads (one statement per batch), award and renewal, revocation, history, and the Code of Conduct
state an access token carries."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, NamedTuple

from sqlalchemy import (
    Boolean,
    DateTime,
    Integer,
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

from db import credentials as credential_db
from db import territories as registry
from db.badges.definitions import DefinitionRecord, new_id
from db.engines import Database
from db.models import (
    badge_award_history,
    badge_awards,
)
from domain.badges import (
    CODE_OF_CONDUCT_REF,
    BadgeRef,
    HeldBadge,
)
from unityplan.settings import MAIN_SERVER


class AwardRecord(NamedTuple):
    """One award as stored; a named tuple: a request may read thousands (forum authors)."""

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


# --- awards: reads

AWARD_COLUMNS = (
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


def award_record(
    territory_id: str, row: Sequence[Any], refs: dict[tuple[str, uuid.UUID], BadgeRef] | None = None
) -> AwardRecord:
    """A row selected with ``AWARD_COLUMNS`` (first, in that order). ``refs``: the batch's
    badge references so far, so the awards of one badge share one ``BadgeRef``."""
    key = (row[2], row[3])
    badge = None if refs is None else refs.get(key)
    if badge is None:
        badge = BadgeRef(row[2], row[3])
        if refs is not None:
            refs[key] = badge
    return AwardRecord(
        id=row[0],
        territory_id=territory_id,
        user_id=row[1],
        badge=badge,
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
    query = select(*AWARD_COLUMNS).where(
        badge_awards.c.id == func.any(bindparam("ids", type_=ARRAY(UUID(as_uuid=True))))
    )
    rows = await conn.execute(query, {"ids": list(ids)})
    return {rec.id: rec for rec in (award_record(territory_id, row) for row in rows)}


async def awards_of_users(
    conn: AsyncConnection, territory_id: str, user_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, list[AwardRecord]]:
    """Every award of each user (revoked and expired ones too: the permission rule decides)."""
    query = select(*AWARD_COLUMNS).where(
        badge_awards.c.user_id == func.any(bindparam("users", type_=ARRAY(UUID(as_uuid=True))))
    )
    found: dict[uuid.UUID, list[AwardRecord]] = {}
    refs: dict[tuple[str, uuid.UUID], BadgeRef] = {}  # a page of authors holds a few badges
    for row in await conn.execute(query, {"users": list(user_ids)}):
        award = award_record(territory_id, row, refs)
        found.setdefault(award.user_id, []).append(award)
    return found


AwardPageKey = tuple[uuid.UUID, bool, uuid.UUID | None, int, datetime]
"""(user, include expired and revoked, award id after which the page starts or None, rows,
the instant that decides what has expired)."""

_PAGE_KEYS = (
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
_PAGE_Q = (
    select(*AWARD_COLUMNS)
    .where(
        badge_awards.c.user_id == _PAGE_KEYS.c.user_id,
        or_(_PAGE_KEYS.c.after_id.is_(None), badge_awards.c.id < _PAGE_KEYS.c.after_id),
        or_(
            _PAGE_KEYS.c.include_all,
            badge_awards.c.revoked_at.is_(None)
            & or_(badge_awards.c.valid_until.is_(None), badge_awards.c.valid_until > _NOW),
        ),
    )
    .order_by(badge_awards.c.id.desc())
    .limit(_PAGE_KEYS.c.lim)
    .lateral("page")
)
_PAGES_Q = (
    select(_PAGE_KEYS.c.idx, *_PAGE_Q.c)
    .select_from(_PAGE_KEYS.join(_PAGE_Q, true()))
    .order_by(_PAGE_KEYS.c.idx, _PAGE_Q.c.id.desc())
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
    for row in await conn.execute(_PAGES_Q, params):
        found[row[0] - 1].append(award_record(territory_id, row[1:]))
    return found


# --- awards: writes


async def lock_award_of(
    conn: AsyncConnection, territory_id: str, user_id: uuid.UUID, badge: BadgeRef
) -> AwardRecord | None:
    row = (
        await conn.execute(
            select(*AWARD_COLUMNS)
            .where(
                badge_awards.c.user_id == user_id,
                badge_awards.c.badge_home == badge.home,
                badge_awards.c.badge_id == badge.id,
            )
            .with_for_update()
        )
    ).first()
    return None if row is None else award_record(territory_id, row)


async def lock_award(
    conn: AsyncConnection, territory_id: str, award_id: uuid.UUID
) -> AwardRecord | None:
    row = (
        await conn.execute(
            select(*AWARD_COLUMNS).where(badge_awards.c.id == award_id).with_for_update()
        )
    ).first()
    return None if row is None else award_record(territory_id, row)


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
    Returns the award and what happened (``awarded`` or ``renewed``); history records it.
    A renewal clears the award's credential revocation bit (if it was ever exported), so the
    credentials exported for it verify again as the award is valid again."""
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
    ).returning(*AWARD_COLUMNS, (badge_awards.c.awarded_at == now).label("fresh"))
    row = (await conn.execute(statement)).one()
    award = award_record(territory_id, row)
    action = "awarded" if row[-1] else "renewed"
    await record_history(conn, award, action, reason=reason, actor=actor)
    if action == "renewed":
        await credential_db.set_revoked(conn, award.id, False)
    return award, action


async def revoke(
    conn: AsyncConnection, award: AwardRecord, *, now: datetime, reason: str, actor: bytes | None
) -> AwardRecord:
    """Revoke the award and, in the same transaction, its credential's status bit (when it
    was ever exported): a credential of a revoked award fails STATUS."""
    row = (
        await conn.execute(
            update(badge_awards)
            .where(badge_awards.c.id == award.id)
            .values(revoked_at=now, revoke_reason=reason, updated_at=func.now())
            .returning(*AWARD_COLUMNS)
        )
    ).one()
    revoked = award_record(award.territory_id, row)
    await record_history(conn, revoked, "revoked", reason=reason, actor=actor)
    await credential_db.revoke(conn, award.id)
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


# --- the Code of Conduct and the core badges


async def code_of_conduct_until(
    db: Database, territory_id: str, user_id: uuid.UUID
) -> datetime | None:
    """Until when the account's Code of Conduct award is valid (None: no award, or revoked);
    what its access tokens carry (claim ``coc``), read at login and refresh."""
    async with db.connect(MAIN_SERVER) as conn:
        record = (await registry.by_ids(conn, [territory_id])).get(territory_id)
    if record is None:
        return None
    a = badge_awards.c
    async with db.connect(record.db_server, territory_id) as conn:
        row = (
            await conn.execute(
                select(a.valid_until, a.revoked_at).where(
                    a.user_id == user_id,
                    a.badge_home == CODE_OF_CONDUCT_REF.home,
                    a.badge_id == CODE_OF_CONDUCT_REF.id,
                )
            )
        ).first()
    if row is None or row[1] is not None:
        return None
    until: datetime | None = row[0]
    return until
