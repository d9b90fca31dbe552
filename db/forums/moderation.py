"""Flags, the review queue, strikes, restrictions and the moderation log of a territory's forums.

Every moderation step writes one typed row in ``forum_moderation_log`` (who, what, on what, about
whom, why, when) in the same transaction as the step itself.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Integer, bindparam, func, or_, select, true, update
from sqlalchemy.dialects.postgresql import ARRAY, UUID
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncConnection

from db.models import forum_flags, forum_moderation_log, forum_restrictions, forum_strikes
from domain.events import new_event_id
from domain.forums import Author, ContentKind, FlagReason, ModerationAction


@dataclass(frozen=True, slots=True)
class FlagRecord:
    id: uuid.UUID
    forum_id: uuid.UUID
    kind: ContentKind
    target_id: uuid.UUID
    flagger: Author
    reason: FlagReason
    note: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class LogRecord:
    id: uuid.UUID
    forum_id: uuid.UUID | None
    action: ModerationAction
    moderator: Author | None
    kind: ContentKind
    target_id: uuid.UUID
    subject: Author | None
    reason: str
    detail: str | None
    created_at: datetime


_FLAG = (
    forum_flags.c.id,
    forum_flags.c.forum_id,
    forum_flags.c.kind,
    forum_flags.c.target_id,
    forum_flags.c.flagger_territory,
    forum_flags.c.flagger_id,
    forum_flags.c.reason,
    forum_flags.c.note,
    forum_flags.c.created_at,
)
_LOG = (
    forum_moderation_log.c.id,
    forum_moderation_log.c.forum_id,
    forum_moderation_log.c.action,
    forum_moderation_log.c.moderator_territory,
    forum_moderation_log.c.moderator_id,
    forum_moderation_log.c.kind,
    forum_moderation_log.c.target_id,
    forum_moderation_log.c.subject_territory,
    forum_moderation_log.c.subject_id,
    forum_moderation_log.c.reason,
    forum_moderation_log.c.detail,
    forum_moderation_log.c.created_at,
)


def _flag(row: Sequence[Any]) -> FlagRecord:
    return FlagRecord(
        row[0],
        row[1],
        ContentKind(row[2]),
        row[3],
        (row[4], row[5]),
        FlagReason(row[6]),
        row[7],
        row[8],
    )


def _person(territory: str | None, user: uuid.UUID | None) -> Author | None:
    return None if territory is None or user is None else (territory, user)


def _log(row: Sequence[Any]) -> LogRecord:
    return LogRecord(
        row[0],
        row[1],
        ModerationAction(row[2]),
        _person(row[3], row[4]),
        ContentKind(row[5]),
        row[6],
        _person(row[7], row[8]),
        row[9],
        row[10],
        row[11],
    )


async def add_flag(
    conn: AsyncConnection,
    *,
    forum_id: uuid.UUID,
    kind: ContentKind,
    target_id: uuid.UUID,
    flagger: Author,
    reason: FlagReason,
    note: str,
) -> FlagRecord:
    row = (
        await conn.execute(
            forum_flags.insert()
            .values(
                id=new_event_id(),
                forum_id=forum_id,
                kind=kind.value,
                target_id=target_id,
                flagger_territory=flagger[0],
                flagger_id=flagger[1],
                reason=reason.value,
                note=note,
            )
            .returning(*_FLAG)
        )
    ).one()
    return _flag(row)


async def resolve_flags(conn: AsyncConnection, target_id: uuid.UUID) -> int:
    """Close every open flag on a target (it was hidden, or the flags were dismissed)."""
    result = await conn.execute(
        update(forum_flags)
        .where(forum_flags.c.target_id == target_id, forum_flags.c.resolved_at.is_(None))
        .values(resolved_at=func.now())
    )
    return int(result.rowcount)


FlagPageKey = tuple[uuid.UUID, uuid.UUID | None, int]
"""(forum, the flag id after which the page starts or None, rows to read)."""
LogPageKey = tuple[uuid.UUID, uuid.UUID | None, int]
"""(forum, the entry id after which the page starts (newest first) or None, rows to read)."""

_PAGE_KEYS = (
    func.unnest(
        bindparam("k_forum", type_=ARRAY(UUID(as_uuid=True))),
        bindparam("k_after", type_=ARRAY(UUID(as_uuid=True))),
        bindparam("k_lim", type_=ARRAY(Integer)),
    )
    .table_valued("forum", "after", "lim", with_ordinality="idx")
    .render_derived(name="k")
)
_FLAG_PAGE = (
    select(*_FLAG)
    .where(
        forum_flags.c.forum_id == _PAGE_KEYS.c.forum,
        forum_flags.c.resolved_at.is_(None),
        or_(_PAGE_KEYS.c.after.is_(None), forum_flags.c.id > _PAGE_KEYS.c.after),
    )
    .order_by(forum_flags.c.id)
    .limit(_PAGE_KEYS.c.lim)
    .lateral("page")
)
_FLAG_PAGES = (
    select(_PAGE_KEYS.c.idx, *_FLAG_PAGE.c)
    .select_from(_PAGE_KEYS.join(_FLAG_PAGE, true()))
    .order_by(_PAGE_KEYS.c.idx, _FLAG_PAGE.c.id)
)
_LOG_PAGE = (
    select(*_LOG)
    .where(
        forum_moderation_log.c.forum_id == _PAGE_KEYS.c.forum,
        or_(_PAGE_KEYS.c.after.is_(None), forum_moderation_log.c.id < _PAGE_KEYS.c.after),
    )
    .order_by(forum_moderation_log.c.id.desc())
    .limit(_PAGE_KEYS.c.lim)
    .lateral("page")
)
_LOG_PAGES = (
    select(_PAGE_KEYS.c.idx, *_LOG_PAGE.c)
    .select_from(_PAGE_KEYS.join(_LOG_PAGE, true()))
    .order_by(_PAGE_KEYS.c.idx, _LOG_PAGE.c.id.desc())
)


def _page_params(keys: Sequence[tuple[uuid.UUID, uuid.UUID | None, int]]) -> dict[str, Any]:
    return {
        "k_forum": [k[0] for k in keys],
        "k_after": [k[1] for k in keys],
        "k_lim": [k[2] for k in keys],
    }


async def flag_pages(conn: AsyncConnection, keys: Sequence[FlagPageKey]) -> list[list[FlagRecord]]:
    """The review queue: open flags of each forum, oldest first, one statement."""
    found: list[list[FlagRecord]] = [[] for _ in keys]
    for row in await conn.execute(_FLAG_PAGES, _page_params(keys)):
        found[row[0] - 1].append(_flag(row[1:]))
    return found


async def log_pages(conn: AsyncConnection, keys: Sequence[LogPageKey]) -> list[list[LogRecord]]:
    """The moderation log of each forum, newest first, one statement."""
    found: list[list[LogRecord]] = [[] for _ in keys]
    for row in await conn.execute(_LOG_PAGES, _page_params(keys)):
        found[row[0] - 1].append(_log(row[1:]))
    return found


async def log(
    conn: AsyncConnection,
    *,
    forum_id: uuid.UUID | None,
    action: ModerationAction,
    moderator: Author | None,
    kind: ContentKind,
    target_id: uuid.UUID,
    subject: Author | None,
    reason: str = "",
    detail: str | None = None,
) -> LogRecord:
    row = (
        await conn.execute(
            forum_moderation_log.insert()
            .values(
                id=new_event_id(),
                forum_id=forum_id,
                action=action.value,
                moderator_territory=None if moderator is None else moderator[0],
                moderator_id=None if moderator is None else moderator[1],
                kind=kind.value,
                target_id=target_id,
                subject_territory=None if subject is None else subject[0],
                subject_id=None if subject is None else subject[1],
                reason=reason,
                detail=detail,
            )
            .returning(*_LOG)
        )
    ).one()
    return _log(row)


async def log_by_ids(conn: AsyncConnection, ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, LogRecord]:
    rows = await conn.execute(select(*_LOG).where(forum_moderation_log.c.id.in_(list(ids))))
    return {row[0]: _log(row) for row in rows}


async def add_strike(
    conn: AsyncConnection, person: Author, issued_by: Author, reason: str
) -> list[datetime]:
    """A strike for ``person``; returns when each of their strikes was issued (this one too).
    Locks the person's restriction row first, so concurrent warnings count each other."""
    await conn.execute(
        select(func.pg_advisory_xact_lock(func.hashtext(f"forum-strikes:{person[0]}:{person[1]}")))
    )
    await conn.execute(
        forum_strikes.insert().values(
            id=new_event_id(),
            user_territory=person[0],
            user_id=person[1],
            issued_by_territory=issued_by[0],
            issued_by_id=issued_by[1],
            reason=reason,
        )
    )
    rows = await conn.execute(
        select(forum_strikes.c.created_at).where(
            forum_strikes.c.user_territory == person[0], forum_strikes.c.user_id == person[1]
        )
    )
    return [row[0] for row in rows]


async def restrict(conn: AsyncConnection, person: Author, until: datetime | None) -> None:
    await conn.execute(
        pg_insert(forum_restrictions)
        .values(user_territory=person[0], user_id=person[1], until=until)
        .on_conflict_do_update(index_elements=["user_territory", "user_id"], set_={"until": until})
    )


async def unrestrict(conn: AsyncConnection, person: Author) -> bool:
    """Lift a restriction and the strikes behind it (they would restrict again at once)."""
    result = await conn.execute(
        forum_restrictions.delete().where(
            forum_restrictions.c.user_territory == person[0],
            forum_restrictions.c.user_id == person[1],
        )
    )
    await conn.execute(
        forum_strikes.delete().where(
            forum_strikes.c.user_territory == person[0], forum_strikes.c.user_id == person[1]
        )
    )
    return bool(result.rowcount)
