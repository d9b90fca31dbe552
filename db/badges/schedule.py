"""The scheduler's claims (scheduler/badges.py): each is safe to run on several replicas at once,
since it claims (a conditional UPDATE, an INSERT ... ON CONFLICT DO NOTHING) before it acts."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta

from sqlalchemy import (
    case,
    func,
    literal,
    select,
    update,
)
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncConnection

from db.badges.awards import AWARD_COLUMNS, AwardRecord, award_record, record_history
from db.badges.definitions import DefinitionRecord
from db.models import (
    badge_awards,
    badge_notice_claims,
    badge_rule_events,
    outbox,
    users,
)

# --- the scheduler's claims (scheduler/badges.py): each is safe to run on several replicas


async def expire_due(
    conn: AsyncConnection, territory_id: str, now: datetime, limit: int = 500
) -> list[AwardRecord]:
    """Mark awards whose validity ended as expired, once: the conditional UPDATE is the claim
    (a concurrent run waits on the row locks, then finds ``expired_at`` set and skips them)."""
    due = (
        select(badge_awards.c.id)
        .where(
            badge_awards.c.valid_until <= now,
            badge_awards.c.expired_at.is_(None),
            badge_awards.c.revoked_at.is_(None),
        )
        .order_by(badge_awards.c.valid_until)
        .limit(limit)
        .with_for_update(skip_locked=True)
        .scalar_subquery()
    )
    rows = await conn.execute(
        update(badge_awards)
        .where(badge_awards.c.id.in_(due), badge_awards.c.expired_at.is_(None))
        .values(expired_at=now)
        .returning(*AWARD_COLUMNS)
    )
    expired = [award_record(territory_id, row) for row in rows]
    for award in expired:
        await record_history(conn, award, "expired", reason="", actor=None)
    return expired


async def expiring(
    conn: AsyncConnection, territory_id: str, now: datetime, horizon: timedelta
) -> list[AwardRecord]:
    """Valid awards that end within ``horizon``: the candidates for renewal notices."""
    rows = await conn.execute(
        select(*AWARD_COLUMNS).where(
            badge_awards.c.valid_until > now,
            badge_awards.c.valid_until <= now + horizon,
            badge_awards.c.revoked_at.is_(None),
        )
    )
    return [award_record(territory_id, row) for row in rows]


async def claim_notice(
    conn: AsyncConnection, award: AwardRecord, *, send: int, skip: Sequence[int]
) -> bool:
    """Claim the renewal notice ``send`` days before this validity's end, and mark the earlier
    notices ``skip`` as passed; True when ``send`` was not claimed before (send it now)."""
    assert award.valid_until is not None
    claims = badge_notice_claims
    for days in skip:
        await conn.execute(
            pg_insert(claims)
            .values(award_id=award.id, days_before=days, valid_until=award.valid_until, sent=False)
            .on_conflict_do_nothing()
        )
    claimed = await conn.execute(
        pg_insert(claims)
        .values(award_id=award.id, days_before=send, valid_until=award.valid_until, sent=True)
        .on_conflict_do_nothing()
        .returning(claims.c.award_id)
    )
    return claimed.first() is not None


async def count_rule_events(
    conn: AsyncConnection, definition: DefinitionRecord, persons: Mapping[str, str]
) -> dict[uuid.UUID, dict[str, int]]:
    """Record, once per event, the territory's outbox events a rule of ``definition`` counts
    (those naming an account of the territory in the payload field ``persons`` gives for their
    type: domain.events.person_fields); returns the counts per event type of each person who
    gained one now. An event seen twice counts once."""
    types = sorted({rule.event for rule in definition.rules} & set(persons))
    if not types:
        return {}
    kind = outbox.c.envelope["type"].astext
    payload = outbox.c.envelope["payload"]
    named = case(*((kind == t, payload[persons[t]].astext) for t in types))
    person = func.cast(named, UUID(as_uuid=True))
    counted = (
        select(
            outbox.c.id,
            literal(definition.ref.home),
            literal(definition.ref.id),
            person,
            kind,
        )
        .select_from(outbox.join(users, users.c.id == person))
        .where(kind.in_(types))
    )
    e = badge_rule_events.c
    inserted = await conn.execute(
        pg_insert(badge_rule_events)
        .from_select(["event_id", "badge_home", "badge_id", "user_id", "event_type"], counted)
        .on_conflict_do_nothing()
        .returning(e.user_id)
    )
    people = sorted({row[0] for row in inserted})
    if not people:
        return {}
    rows = await conn.execute(
        select(e.user_id, e.event_type, func.count())
        .where(
            e.badge_home == definition.ref.home,
            e.badge_id == definition.ref.id,
            e.user_id.in_(people),
        )
        .group_by(e.user_id, e.event_type)
    )
    found: dict[uuid.UUID, dict[str, int]] = {p: {} for p in people}
    for user_id, event_type, count in rows:
        found[user_id][event_type] = int(count)
    return found
