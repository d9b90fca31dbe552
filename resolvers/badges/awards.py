"""Awarding, renewing and revoking badges: always one change of the holder's territory."""

from __future__ import annotations

import uuid
from typing import Annotated

import strawberry

from db import badges as badge_db
from db.audit import AuditAction
from db.badges import AwardRecord, DefinitionRecord, ref_text
from domain.accounts import can_read_account
from domain.badges import (
    MissingPrerequisites,
    missing_prerequisites,
    recipient_allowed,
    validate_reason,
)
from domain.errors import BadUserInput, Forbidden, NotFound, input_field
from domain.events import BadgeAwarded, BadgeRevoked, TerritoryRef
from graph import badge_access
from graph.context import Info
from graph.loaders.accounts import USER_BY_ID
from graph.loaders.badges import AWARD_BY_ID
from graph.permissions import IsAuthenticated
from graph.types.badges import BadgeAward, badge_id
from resolvers.badges.common import badge_ref, may_manage
from resolvers.common import key_of, person_of, territory_change


@strawberry.input(description="A badge to award (or renew) to a person.")
class AwardBadgeInput:
    badge: strawberry.ID = strawberry.field(description="The `Badge`.")
    recipient: strawberry.ID = strawberry.field(
        description="The person's `User` (or `Profile`) id; a territory's (or its communities') "
        "badges go only to that territory's accounts."
    )
    reason: str = strawberry.field(description="Why: 1 to 500 characters, kept in its history.")


@strawberry.type(description="The result of `awardBadge`.")
class AwardBadgePayload:
    award: BadgeAward = strawberry.field(description="The award, valid from now.")
    renewed: bool = strawberry.field(
        description="True when the person already had it (valid, expired or revoked): it was "
        "renewed, keeping `awardedAt`."
    )


@strawberry.input(description="An award to revoke.")
class RevokeBadgeAwardInput:
    award: strawberry.ID = strawberry.field(description="The `BadgeAward`.")
    reason: str = strawberry.field(description="Why: 1 to 500 characters, shown to the holder.")


@strawberry.type(description="The result of `revokeBadgeAward`.")
class RevokeBadgeAwardPayload:
    award: BadgeAward = strawberry.field(description="The award, revoked.")
    revoked_now: bool = strawberry.field(
        description="False when it was revoked already (nothing changed)."
    )


def _reason(value: str) -> str:
    with input_field("reason"):
        return validate_reason(value)


async def award(
    info: Info,
    definition: DefinitionRecord,
    holder: tuple[str, uuid.UUID],
    *,
    source: str,
    reason: str,
) -> tuple[AwardRecord, bool]:
    """Award or renew ``definition`` to ``holder`` in one change of the holder's territory:
    history, audit and ``badge.awarded`` commit with it. Prerequisites are checked first."""
    territory_id, user_id = holder
    awards, found = await badge_access.held_awards(info, holder)
    held = [a.held(found[a.badge]) for a in awards if a.badge in found]
    now = info.context.clock()
    missing = missing_prerequisites(definition.prerequisites, held, now)
    if missing:
        error = MissingPrerequisites(
            "The recipient lacks valid prerequisites of this badge.", field="badge"
        )
        error.extra["missing"] = [badge_id(r) for r in missing]
        raise error
    async with territory_change(info, territory_id) as change:
        record, action = await badge_db.grant(
            change.conn,
            territory_id,
            user_id=user_id,
            definition=definition,
            now=now,
            source=source,
            reason=reason,
            actor=change.actor,
        )
        change.audit(
            AuditAction.BADGE_AWARDED if action == "awarded" else AuditAction.BADGE_RENEWED,
            target=str(record.id),
            details={"badge": ref_text(definition.ref), "version": definition.version},
        )
        change.emit(
            BadgeAwarded(
                territory_id=territory_id,
                award_id=record.id,
                user_id=user_id,
                badge_id=definition.ref.id,
                badge_home=TerritoryRef(definition.ref.home),
            )
        )
    return record, action == "renewed"


@strawberry.type
class BadgeAwardMutations:
    @strawberry.mutation(
        description="Award a badge to a person, or renew theirs (valid from now for the "
        "badge's validity; `awardedAt` kept). Who may: global admins for global badges, the "
        "territory's managers for its badges, a community's admins for its badges; FORBIDDEN "
        "otherwise. NOT_FOUND for an unknown badge or recipient; MISSING_PREREQUISITES (with "
        "`extensions.missing`, the `Badge` ids) when the recipient lacks valid prerequisites; "
        "BAD_USER_INPUT (recipient) for another territory's account, (reason) for an empty or "
        "long reason.",
        permission_classes=[IsAuthenticated],
    )
    async def award_badge(
        self,
        info: Info,
        input: Annotated[
            AwardBadgeInput, strawberry.argument(description="The badge, the recipient and why.")
        ],
    ) -> AwardBadgePayload:
        ref = badge_ref(input.badge, field="badge")
        holder = person_of(input.recipient, field="recipient")
        reason = _reason(input.reason)
        definition = await badge_access.definition(info, ref)
        if definition is None:
            raise NotFound("No such badge.", field="badge")
        if not await may_manage(info, definition.level, ref.home, definition.community_id):
            raise Forbidden("You may not award this badge.")
        if not recipient_allowed(ref.home, holder[0]):
            raise BadUserInput(
                "A territory's badges go only to that territory's accounts.", field="recipient"
            )
        user = await info.context.loaders.get(USER_BY_ID, holder[0]).load(holder[1])
        if user is None or user.status != "active":
            raise NotFound("No such account.", field="recipient")
        record, renewed = await award(info, definition, holder, source="manual", reason=reason)
        return AwardBadgePayload(
            award=BadgeAward.from_record(record, info.context.clock()), renewed=renewed
        )

    @strawberry.mutation(
        description="Revoke an award, with a reason; its permissions end at once (and those "
        "of badges requiring it). Who may: as `awardBadge`. NOT_FOUND for an award you cannot "
        "see; FORBIDDEN for one you see but may not revoke; BAD_USER_INPUT (reason).",
        permission_classes=[IsAuthenticated],
    )
    async def revoke_badge_award(
        self,
        info: Info,
        input: Annotated[
            RevokeBadgeAwardInput, strawberry.argument(description="The award and why.")
        ],
    ) -> RevokeBadgeAwardPayload:
        territory_id, award_id = key_of(input.award, "BadgeAward", field="award")
        reason = _reason(input.reason)
        record = await info.context.loaders.get(AWARD_BY_ID, territory_id).load(award_id)
        definition = None if record is None else await badge_access.definition(info, record.badge)
        caller = info.context.caller
        if record is None or definition is None:
            raise NotFound("No such award.", field="award")
        may = await may_manage(info, definition.level, record.badge.home, definition.community_id)
        if not may:
            if can_read_account(caller, territory_id, record.user_id):
                raise Forbidden("You may not revoke this award.")
            raise NotFound("No such award.", field="award")
        async with territory_change(info, territory_id) as change:
            locked = await badge_db.lock_award(change.conn, territory_id, award_id)
            if locked is None:
                raise NotFound("No such award.", field="award")
            if locked.revoked_at is not None:
                return RevokeBadgeAwardPayload(
                    award=BadgeAward.from_record(locked, info.context.clock()), revoked_now=False
                )
            revoked = await badge_db.revoke(
                change.conn, locked, now=info.context.clock(), reason=reason, actor=change.actor
            )
            change.audit(AuditAction.BADGE_REVOKED, target=str(award_id), details={})
            change.emit(
                BadgeRevoked(
                    territory_id=territory_id,
                    award_id=award_id,
                    user_id=locked.user_id,
                    badge_id=locked.badge.id,
                    badge_home=TerritoryRef(locked.badge.home),
                )
            )
        return RevokeBadgeAwardPayload(
            award=BadgeAward.from_record(revoked, info.context.clock()), revoked_now=True
        )
