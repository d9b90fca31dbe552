"""The badge jobs: expiry, renewal notices at 30/14/7 days, automatic-award rule sweeps.

Each runs over every active territory, one transaction per territory, and claims before it acts,
in the transaction that writes its outbox events: an expiry is the conditional UPDATE of
``expired_at``; a notice is a row of ``badge_notice_claims`` keyed by (award, days before, the
validity it announces); a rule counts an event once per badge (``badge_rule_events``). Two
replicas running the same job therefore send each notice and event exactly once. A notice day
missed while no scheduler ran is sent once on the next run: the most urgent notice due is sent,
earlier ones it makes pointless are recorded as skipped.
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any, TypeVar

from sqlalchemy.ext.asyncio import AsyncConnection

from db import badges as badge_db
from db import events as outbox
from db import territories as registry
from db.badges import AwardRecord, DefinitionRecord
from domain.badges import GLOBAL_HOME, BadgeRef, missing_prerequisites
from domain.events import (
    BadgeAwarded,
    BadgeAwardEvent,
    BadgeExpired,
    BadgeRenewalNeeded,
    RenewalNotice,
    TerritoryRef,
    person_fields,
    seal,
)
from domain.territories import TerritoryStatus
from scheduler.registry import Job, JobContext, register
from unityplan.settings import MAIN_SERVER

NOTICE_DAYS = (30, 14, 7)


async def _territories(ctx: JobContext) -> list[registry.TerritoryRecord]:
    async with ctx.db.connect(MAIN_SERVER) as conn:
        records = await registry.all_records(conn)
    return [r for r in records if r.status is TerritoryStatus.ACTIVE]


E = TypeVar("E", bound=BadgeAwardEvent)


def _event(cls: type[E], award: AwardRecord, **extra: Any) -> E:
    """A badge event about ``award``: ids only, the holder's territory as the subject's."""
    return cls(
        territory_id=award.territory_id,
        award_id=award.id,
        user_id=award.user_id,
        badge_id=award.badge.id,
        badge_home=TerritoryRef(award.badge.home),
        **extra,
    )


async def _emit(
    ctx: JobContext, conn: AsyncConnection, territory_id: str, events: list[BadgeAwardEvent]
) -> None:
    envelopes = [seal(e, actor=None, node_id=ctx.node_id) for e in events]
    await outbox.insert_events(conn, territory_id, envelopes)


async def expire_awards(ctx: JobContext) -> int:
    """``badge.expired`` once for every award whose validity ended (a renewal clears the mark)."""
    done = 0
    for territory in await _territories(ctx):
        async with ctx.db.transaction(territory.db_server, territory.id) as conn:
            expired = await badge_db.expire_due(conn, territory.id, ctx.now)
            await _emit(ctx, conn, territory.id, [_event(BadgeExpired, a) for a in expired])
        done += len(expired)
    return done


def notice_due(award: AwardRecord, ctx: JobContext) -> list[int]:
    """The notices whose day has come for this validity, most urgent first."""
    assert award.valid_until is not None
    left = award.valid_until - ctx.now
    return sorted(d for d in NOTICE_DAYS if left <= timedelta(days=d))


async def renewal_notices(ctx: JobContext) -> int:
    """``badge.renewal_needed`` 30, 14 and 7 days before an award expires, each once."""
    done = 0
    horizon = timedelta(days=max(NOTICE_DAYS))
    for territory in await _territories(ctx):
        async with ctx.db.transaction(territory.db_server, territory.id) as conn:
            events: list[BadgeAwardEvent] = []
            for award in await badge_db.expiring(conn, territory.id, ctx.now, horizon):
                due = notice_due(award, ctx)
                if not due:
                    continue
                send, skip = due[0], due[1:]
                if await badge_db.claim_notice(conn, award, send=send, skip=skip):
                    events.append(
                        _event(BadgeRenewalNeeded, award, days_before=RenewalNotice(str(send)))
                    )
            await _emit(ctx, conn, territory.id, events)
        done += len(events)
    return done


def _rule_met(definition: DefinitionRecord, counts: dict[str, int]) -> bool:
    return any(counts.get(rule.event, 0) >= rule.threshold for rule in definition.rules)


async def sweep_rules(ctx: JobContext) -> int:
    """Count the events automatic-award rules name (each once, for the person its type's
    ``PERSON`` field names) and award the badges whose threshold is reached, unless already held
    and valid or prerequisites are missing."""
    async with ctx.db.connect(MAIN_SERVER) as conn:
        global_rules = await badge_db.definitions_with_rules(conn, GLOBAL_HOME)
    persons = person_fields()
    done = 0
    for territory in await _territories(ctx):
        async with ctx.db.transaction(territory.db_server, territory.id) as conn:
            local = await badge_db.definitions_with_rules(conn, territory.id)
            awarded: list[BadgeAwardEvent] = []
            for definition in [*global_rules, *local]:
                counts = await badge_db.count_rule_events(conn, definition, persons)
                for user_id, per_type in counts.items():
                    if not _rule_met(definition, per_type):
                        continue
                    award = await _award_by_rule(ctx, conn, territory.id, user_id, definition)
                    if award is not None:
                        awarded.append(_event(BadgeAwarded, award))
            await _emit(ctx, conn, territory.id, awarded)
        done += len(awarded)
    return done


async def _award_by_rule(
    ctx: JobContext,
    conn: AsyncConnection,
    territory_id: str,
    user_id: uuid.UUID,
    definition: DefinitionRecord,
) -> AwardRecord | None:
    held = (await badge_db.awards_of_users(conn, territory_id, [user_id])).get(user_id, [])
    current = next((a for a in held if a.badge == definition.ref), None)
    if (
        current is not None
        and current.revoked_at is None
        and (current.valid_until is None or current.valid_until > ctx.now)
    ):
        return None  # held already: an event applied twice (or a later one) awards once
    definitions = await _definitions_of(ctx, conn, territory_id, [a.badge for a in held])
    facts = [a.held(definitions[a.badge]) for a in held if a.badge in definitions]
    if missing_prerequisites(definition.prerequisites, facts, ctx.now):
        return None  # counted: awarded by a later sweep once the prerequisites are held
    award, _ = await badge_db.grant(
        conn,
        territory_id,
        user_id=user_id,
        definition=definition,
        now=ctx.now,
        source="rule",
        reason="automatic: " + ", ".join(f"{r.event} x{r.threshold}" for r in definition.rules),
        actor=None,
    )
    return award


async def _definitions_of(
    ctx: JobContext, conn: AsyncConnection, territory_id: str, refs: list[BadgeRef]
) -> dict[BadgeRef, DefinitionRecord]:
    found: dict[BadgeRef, DefinitionRecord] = {}
    local = [r.id for r in refs if r.home == territory_id]
    for rec in (await badge_db.definitions_by_ids(conn, territory_id, local)).values():
        found[rec.ref] = rec
    remote = [r.id for r in refs if r.home == GLOBAL_HOME]
    if remote:
        async with ctx.db.connect(MAIN_SERVER) as main:
            for rec in (await badge_db.definitions_by_ids(main, GLOBAL_HOME, remote)).values():
                found[rec.ref] = rec
    return found


register(Job("badges.expire", every=timedelta(minutes=1), run=expire_awards))
register(Job("badges.renewal_notices", every=timedelta(minutes=5), run=renewal_notices))
register(Job("badges.rule_sweep", every=timedelta(minutes=1), run=sweep_rules))
