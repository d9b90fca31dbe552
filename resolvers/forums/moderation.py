"""Moderation: flags, the review queue's decisions, hiding, warnings (strikes), restrictions,
escalation, and closing and pinning topics.

Moderators are the holders of forum.moderate for the forum's scope (today: the territory's
moderators and managers, and global admins). Every step writes one typed entry in the forum's
moderation log and emits ``forum.moderated`` naming the person concerned (the content's author),
who is notified; all in the step's own transaction.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated

import strawberry

from db.forums import moderation as moderation_db
from db.forums import writes as forum_db
from domain.errors import BadUserInput, NotFound, input_field
from domain.events import ForumContentFlagged, ForumModerated, TerritoryRef
from domain.forums import (
    STRIKES_TO_RESTRICT,
    Author,
    ContentKind,
    EscalationTarget,
    FlagReason,
    ForumLevel,
    ModerationAction,
    active_strikes,
    check_moderates,
    validate_reason,
)
from graph import ids
from graph.context import Info
from graph.permissions import IsAuthenticated
from graph.types.enums import described_enum
from graph.types.forums import (
    Access,
    ForumModerationEntry,
    ForumTopic,
    comment_in,
    topic_in,
)
from graph.types.profiles import profile_sight
from resolvers.common import Change, key_of, person_of, server_of, territory_change
from resolvers.forums.posts import FORUM_ID, change_now, visible_forum

TARGET_ID = "targetId"
USER_ID = "userId"
THIRD_STRIKE = "third_strike"

described_enum(
    EscalationTarget,
    name="ForumEscalationTarget",
    description="Who an escalated case goes to.",
    values={
        EscalationTarget.TERRITORY_MANAGERS: "The managers of the forum's territory.",
        EscalationTarget.GLOBAL_ADMINS: "The federation's global admins.",
    },
)


@dataclass(frozen=True, slots=True)
class Target:
    """A topic or comment a moderation step is about, in a forum the caller sees."""

    kind: ContentKind
    key: uuid.UUID
    author: Author
    topic_id: uuid.UUID
    access: Access

    @property
    def territory_id(self) -> str:
        return self.access.record.territory_id


async def _target(info: Info, value: strawberry.ID) -> Target:
    territory_id, key = key_of(value, "ForumTopic", "ForumComment", field=TARGET_ID)
    with input_field(TARGET_ID):
        await server_of(info, territory_id)
    if ids.decode(value).type_name == "ForumTopic":
        topic = await topic_in(info, territory_id, key)
        if topic is not None:
            record, access = topic
            return Target(ContentKind.TOPIC, key, record.author, record.id, access)
    else:
        comment = await comment_in(info, territory_id, key)
        if comment is not None:
            found, access = comment
            return Target(ContentKind.COMMENT, key, found.author, found.topic_id, access)
    raise NotFound("No such topic or comment.", field=TARGET_ID)


async def _step(
    info: Info,
    change: Change,
    *,
    forum_id: uuid.UUID,
    action: ModerationAction,
    kind: ContentKind,
    target_id: uuid.UUID,
    subject: Author,
    reason: str,
    detail: str | None = None,
) -> ForumModerationEntry:
    """Log the step and tell the person it concerns (``forum.moderated``), in the change."""
    entry = await moderation_db.log(
        change.conn,
        forum_id=forum_id,
        action=action,
        moderator=info.context.caller.account(),
        kind=kind,
        target_id=target_id,
        subject=subject,
        reason=reason,
        detail=detail,
    )
    change.emit(
        ForumModerated(
            territory_id=change.territory_id,
            forum_id=forum_id,
            entry_id=entry.id,
            action=action,
            kind=kind,
            target_id=target_id,
            subject_territory=TerritoryRef(subject[0]),
            subject_id=subject[1],
        )
    )
    return ForumModerationEntry.from_record(change.territory_id, entry)


def _reason(value: str) -> str:
    with input_field("reason"):
        return validate_reason(value)


# --- inputs and payloads


@strawberry.input(description="Content to flag for the forum's moderators.")
class FlagForumContentInput:
    target_id: strawberry.ID = strawberry.field(description="A `ForumTopic` or `ForumComment` id.")
    reason: FlagReason = strawberry.field(description="Why.")
    note: str = strawberry.field(default="", description="Up to 1000 characters, optional.")


@strawberry.type(description="The result of `flagForumContent`.")
class FlagForumContentPayload:
    target_id: strawberry.ID = strawberry.field(description="The flagged content.")
    reason: FlagReason = strawberry.field(description="The reason recorded.")


@strawberry.input(description="A moderation step on a topic or comment.")
class ModerateForumContentInput:
    target_id: strawberry.ID = strawberry.field(description="A `ForumTopic` or `ForumComment` id.")
    reason: str = strawberry.field(
        default="", description="Why (up to 1000 characters); logged and shown to the author."
    )


@strawberry.input(description="A case to escalate.")
class EscalateForumContentInput:
    target_id: strawberry.ID = strawberry.field(description="A `ForumTopic` or `ForumComment` id.")
    to: EscalationTarget = strawberry.field(description="Who should take it over.")
    reason: str = strawberry.field(default="", description="Why (up to 1000 characters).")


@strawberry.input(description="A topic for a moderator to close, reopen, pin or unpin.")
class ModerateForumTopicInput:
    topic_id: strawberry.ID = strawberry.field(description="The topic.")
    reason: str = strawberry.field(default="", description="Why (up to 1000 characters).")


@strawberry.type(description="The result of a moderation step.")
class ModerateForumPayload:
    entry: ForumModerationEntry = strawberry.field(description="The step, as logged.")


@strawberry.type(description="The result of a step on a topic.")
class ModerateForumTopicPayload:
    entry: ForumModerationEntry = strawberry.field(description="The step, as logged.")
    topic: ForumTopic = strawberry.field(description="The topic as it now is.")


@strawberry.type(description="The result of `warnForumAuthor`.")
class WarnForumAuthorPayload:
    entry: ForumModerationEntry = strawberry.field(description="The warning, as logged.")
    active_strikes: int = strawberry.field(
        description="The author's strikes in this territory's forums that have not expired "
        "(each counts for 90 days)."
    )
    restricted: bool = strawberry.field(
        description="True when this warning was the third active strike: the author may no "
        "longer post here (their posts answer POSTING_RESTRICTED)."
    )


@strawberry.input(description="A person to restrict from posting in a territory's forums.")
class RestrictForumUserInput:
    forum_id: strawberry.ID = strawberry.field(
        description="A forum you moderate: the restriction covers its territory's forums."
    )
    user_id: strawberry.ID = strawberry.field(
        description="The person's `User` id (an account of the forum's territory, or of any "
        "territory for a global forum)."
    )
    until: datetime | None = strawberry.field(
        default=None, description="When it ends by itself; null: until lifted."
    )
    reason: str = strawberry.field(default="", description="Why (up to 1000 characters).")


@strawberry.input(description="A person whose restriction (and strikes) to lift.")
class UnrestrictForumUserInput:
    forum_id: strawberry.ID = strawberry.field(description="A forum you moderate.")
    user_id: strawberry.ID = strawberry.field(description="The person's `User` id.")
    reason: str = strawberry.field(default="", description="Why (up to 1000 characters).")


async def _moderated_target(info: Info, value: strawberry.ID) -> Target:
    target = await _target(info, value)
    check_moderates(target.access.standing)
    return target


async def _person(info: Info, access: Access, value: strawberry.ID) -> Author:
    """A person a moderator names: an active account of the forum's territory, or for a global
    forum of any territory (read in its own territory, as everywhere)."""
    territory_id, user_id = person_of(value, field=USER_ID)
    forum_territory = access.record.territory_id
    if territory_id != forum_territory and access.record.facts.level is not ForumLevel.GLOBAL:
        raise BadUserInput("An account of the forum's territory.", field=USER_ID)
    with input_field(USER_ID):
        await server_of(info, territory_id)
    if await profile_sight(info, territory_id, user_id) is None:
        raise NotFound("No such person.", field=USER_ID)
    return territory_id, user_id


@strawberry.type
class ForumModerationMutations:
    @strawberry.mutation(
        description="Flag a topic or comment for the forum's moderators (it joins their review "
        "queue). BAD_USER_INPUT for a malformed field; NOT_FOUND for content you cannot see.",
        permission_classes=[IsAuthenticated],
    )
    async def flag_forum_content(
        self,
        info: Info,
        input: Annotated[FlagForumContentInput, strawberry.argument(description="The flag.")],
    ) -> FlagForumContentPayload:
        target = await _target(info, input.target_id)
        with input_field("note"):
            note = validate_reason(input.note)
        flagger = info.context.caller.account()
        forum_id = target.access.record.id
        async with territory_change(info, target.territory_id) as change:
            await moderation_db.add_flag(
                change.conn,
                forum_id=forum_id,
                kind=target.kind,
                target_id=target.key,
                flagger=flagger,
                reason=input.reason,
                note=note,
            )
            await moderation_db.log(
                change.conn,
                forum_id=forum_id,
                action=ModerationAction.FLAGGED,
                moderator=flagger,
                kind=target.kind,
                target_id=target.key,
                subject=target.author,
                reason=note,
                detail=input.reason.value,
            )
            change.emit(
                ForumContentFlagged(
                    territory_id=target.territory_id,
                    forum_id=forum_id,
                    kind=target.kind,
                    target_id=target.key,
                    reason=input.reason,
                    author_territory=TerritoryRef(target.author[0]),
                    author_id=target.author[1],
                )
            )
        return FlagForumContentPayload(target_id=input.target_id, reason=input.reason)

    @strawberry.mutation(
        description="Dismiss the open flags on a topic or comment (it stays as it is). "
        "FORBIDDEN unless you moderate the forum; NOT_FOUND for content you cannot see.",
        permission_classes=[IsAuthenticated],
    )
    async def dismiss_forum_flags(
        self,
        info: Info,
        input: Annotated[ModerateForumContentInput, strawberry.argument(description="What.")],
    ) -> ModerateForumPayload:
        target = await _moderated_target(info, input.target_id)
        reason = _reason(input.reason)
        async with territory_change(info, target.territory_id) as change:
            await moderation_db.resolve_flags(change.conn, target.key)
            entry = await _step(
                info,
                change,
                forum_id=target.access.record.id,
                action=ModerationAction.FLAG_DISMISSED,
                kind=target.kind,
                target_id=target.key,
                subject=target.author,
                reason=reason,
            )
        return ModerateForumPayload(entry=entry)

    @strawberry.mutation(
        description="Hide a topic or comment: its text is withheld from everyone (a hidden "
        "comment keeps its place in its thread) and its open flags are resolved. FORBIDDEN "
        "unless you moderate the forum; NOT_FOUND for content you cannot see.",
        permission_classes=[IsAuthenticated],
    )
    async def hide_forum_content(
        self,
        info: Info,
        input: Annotated[ModerateForumContentInput, strawberry.argument(description="What.")],
    ) -> ModerateForumPayload:
        return await _set_hidden(info, input, hidden=True)

    @strawberry.mutation(
        description="Restore hidden content. FORBIDDEN unless you moderate the forum; "
        "NOT_FOUND for content you cannot see.",
        permission_classes=[IsAuthenticated],
    )
    async def restore_forum_content(
        self,
        info: Info,
        input: Annotated[ModerateForumContentInput, strawberry.argument(description="What.")],
    ) -> ModerateForumPayload:
        return await _set_hidden(info, input, hidden=False)

    @strawberry.mutation(
        description="Warn the author of a topic or comment: one strike in the territory's "
        f"forums, active for 90 days. The {STRIKES_TO_RESTRICT}rd active strike restricts them "
        "from posting (logged as RESTRICTED with detail `third_strike`). FORBIDDEN unless you "
        "moderate the forum; NOT_FOUND for content you cannot see.",
        permission_classes=[IsAuthenticated],
    )
    async def warn_forum_author(
        self,
        info: Info,
        input: Annotated[ModerateForumContentInput, strawberry.argument(description="What.")],
    ) -> WarnForumAuthorPayload:
        target = await _moderated_target(info, input.target_id)
        reason = _reason(input.reason)
        forum_id = target.access.record.id
        async with territory_change(info, target.territory_id) as change:
            issued = await moderation_db.add_strike(
                change.conn, target.author, info.context.caller.account(), reason
            )
            now = await change_now(change)
            active = active_strikes(issued, now)
            entry = await _step(
                info,
                change,
                forum_id=forum_id,
                action=ModerationAction.WARNED,
                kind=ContentKind.USER,
                target_id=target.author[1],
                subject=target.author,
                reason=reason,
            )
            restricted = active == STRIKES_TO_RESTRICT
            if restricted:
                await _step(
                    info,
                    change,
                    forum_id=forum_id,
                    action=ModerationAction.RESTRICTED,
                    kind=ContentKind.USER,
                    target_id=target.author[1],
                    subject=target.author,
                    reason=reason,
                    detail=THIRD_STRIKE,
                )
        return WarnForumAuthorPayload(
            entry=entry, active_strikes=active, restricted=active >= STRIKES_TO_RESTRICT
        )

    @strawberry.mutation(
        description="Restrict a person from posting in the forum's territory's forums. "
        "FORBIDDEN unless you moderate the forum; NOT_FOUND for a forum you cannot see or no "
        "such person; BAD_USER_INPUT for a malformed id.",
        permission_classes=[IsAuthenticated],
    )
    async def restrict_forum_user(
        self,
        info: Info,
        input: Annotated[RestrictForumUserInput, strawberry.argument(description="Who.")],
    ) -> ModerateForumPayload:
        access = await visible_forum(info, input.forum_id, FORUM_ID)
        check_moderates(access.standing)
        reason = _reason(input.reason)
        person = await _person(info, access, input.user_id)
        async with territory_change(info, access.record.territory_id) as change:
            await moderation_db.restrict(change.conn, person, input.until)
            entry = await _step(
                info,
                change,
                forum_id=access.record.id,
                action=ModerationAction.RESTRICTED,
                kind=ContentKind.USER,
                target_id=person[1],
                subject=person,
                reason=reason,
            )
        return ModerateForumPayload(entry=entry)

    @strawberry.mutation(
        description="Lift a person's restriction and clear their strikes (the log keeps them). "
        "FORBIDDEN unless you moderate the forum; NOT_FOUND for a forum you cannot see or no "
        "such person.",
        permission_classes=[IsAuthenticated],
    )
    async def unrestrict_forum_user(
        self,
        info: Info,
        input: Annotated[UnrestrictForumUserInput, strawberry.argument(description="Who.")],
    ) -> ModerateForumPayload:
        access = await visible_forum(info, input.forum_id, FORUM_ID)
        check_moderates(access.standing)
        reason = _reason(input.reason)
        person = await _person(info, access, input.user_id)
        async with territory_change(info, access.record.territory_id) as change:
            await moderation_db.unrestrict(change.conn, person)
            entry = await _step(
                info,
                change,
                forum_id=access.record.id,
                action=ModerationAction.UNRESTRICTED,
                kind=ContentKind.USER,
                target_id=person[1],
                subject=person,
                reason=reason,
            )
        return ModerateForumPayload(entry=entry)

    @strawberry.mutation(
        description="Escalate a topic or comment to the territory's managers or the global "
        "admins (they see it in the moderation log and through `forum.moderated`). FORBIDDEN "
        "unless you moderate the forum; NOT_FOUND for content you cannot see.",
        permission_classes=[IsAuthenticated],
    )
    async def escalate_forum_content(
        self,
        info: Info,
        input: Annotated[EscalateForumContentInput, strawberry.argument(description="What.")],
    ) -> ModerateForumPayload:
        target = await _moderated_target(info, input.target_id)
        reason = _reason(input.reason)
        async with territory_change(info, target.territory_id) as change:
            entry = await _step(
                info,
                change,
                forum_id=target.access.record.id,
                action=ModerationAction.ESCALATED,
                kind=target.kind,
                target_id=target.key,
                subject=target.author,
                reason=reason,
                detail=input.to.value,
            )
        return ModerateForumPayload(entry=entry)

    @strawberry.mutation(
        description="Close a topic to new comments. FORBIDDEN unless you moderate the forum; "
        "NOT_FOUND for a topic you cannot see.",
        permission_classes=[IsAuthenticated],
    )
    async def close_forum_topic(
        self,
        info: Info,
        input: Annotated[ModerateForumTopicInput, strawberry.argument(description="Which.")],
    ) -> ModerateForumTopicPayload:
        return await _topic_step(info, input, ModerationAction.TOPIC_CLOSED, is_closed=True)

    @strawberry.mutation(
        description="Reopen a closed topic. FORBIDDEN unless you moderate the forum; NOT_FOUND "
        "for a topic you cannot see.",
        permission_classes=[IsAuthenticated],
    )
    async def reopen_forum_topic(
        self,
        info: Info,
        input: Annotated[ModerateForumTopicInput, strawberry.argument(description="Which.")],
    ) -> ModerateForumTopicPayload:
        return await _topic_step(info, input, ModerationAction.TOPIC_REOPENED, is_closed=False)

    @strawberry.mutation(
        description="Pin a topic: pinned topics are listed first. FORBIDDEN unless you "
        "moderate the forum; NOT_FOUND for a topic you cannot see.",
        permission_classes=[IsAuthenticated],
    )
    async def pin_forum_topic(
        self,
        info: Info,
        input: Annotated[ModerateForumTopicInput, strawberry.argument(description="Which.")],
    ) -> ModerateForumTopicPayload:
        return await _topic_step(info, input, ModerationAction.TOPIC_PINNED, is_pinned=True)

    @strawberry.mutation(
        description="Unpin a topic. FORBIDDEN unless you moderate the forum; NOT_FOUND for a "
        "topic you cannot see.",
        permission_classes=[IsAuthenticated],
    )
    async def unpin_forum_topic(
        self,
        info: Info,
        input: Annotated[ModerateForumTopicInput, strawberry.argument(description="Which.")],
    ) -> ModerateForumTopicPayload:
        return await _topic_step(info, input, ModerationAction.TOPIC_UNPINNED, is_pinned=False)


async def _set_hidden(
    info: Info, input: ModerateForumContentInput, *, hidden: bool
) -> ModerateForumPayload:
    target = await _moderated_target(info, input.target_id)
    reason = _reason(input.reason)
    async with territory_change(info, target.territory_id) as change:
        when = await change_now(change) if hidden else None
        if target.kind is ContentKind.TOPIC:
            await forum_db.lock_topic(change.conn, change.territory_id, target.key)
            await forum_db.set_topic(change.conn, change.territory_id, target.key, hidden_at=when)
        else:
            await forum_db.lock_comment(change.conn, target.key)
            await forum_db.set_comment(change.conn, target.key, hidden_at=when)
        if hidden:
            await moderation_db.resolve_flags(change.conn, target.key)
        entry = await _step(
            info,
            change,
            forum_id=target.access.record.id,
            action=ModerationAction.HIDDEN if hidden else ModerationAction.RESTORED,
            kind=target.kind,
            target_id=target.key,
            subject=target.author,
            reason=reason,
        )
    return ModerateForumPayload(entry=entry)


async def _topic_step(
    info: Info,
    input: ModerateForumTopicInput,
    action: ModerationAction,
    **values: bool,
) -> ModerateForumTopicPayload:
    territory_id, key = key_of(input.topic_id, "ForumTopic", field="topicId")
    with input_field("topicId"):
        await server_of(info, territory_id)
    found = await topic_in(info, territory_id, key)
    if found is None:
        raise NotFound("No such topic.", field="topicId")
    record, access = found
    check_moderates(access.standing)
    reason = _reason(input.reason)
    async with territory_change(info, territory_id) as change:
        await forum_db.lock_topic(change.conn, territory_id, key)
        updated = await forum_db.set_topic(change.conn, territory_id, key, **values)
        entry = await _step(
            info,
            change,
            forum_id=access.record.id,
            action=action,
            kind=ContentKind.TOPIC,
            target_id=key,
            subject=record.author,
            reason=reason,
        )
    return ModerateForumTopicPayload(entry=entry, topic=ForumTopic.from_record(updated))
