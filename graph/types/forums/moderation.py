"""What moderators read: the review queue's flags and the moderation log."""

from __future__ import annotations

import uuid
from datetime import datetime

import strawberry

from db.forums.moderation import FlagRecord, LogRecord
from domain.forums import (
    ContentKind,
    FlagReason,
    ModerationAction,
)
from graph import ids
from graph.context import Info
from graph.loaders.forums import (
    LOG_ENTRY,
)
from graph.types.forums.access import forum_by_id
from graph.types.forums.authors import ForumAuthor
from graph.types.relay import Node

# --- moderation views


@strawberry.type(description="An open flag in a forum's review queue.")
class ForumFlag:
    reason: FlagReason = strawberry.field(description="Why it was flagged.")
    note: str = strawberry.field(description="The flagger's note as written; may be empty.")
    target_kind: ContentKind = strawberry.field(description="A topic or a comment.")
    target_id: strawberry.ID = strawberry.field(description="The flagged topic or comment.")
    flagged_by: ForumAuthor = strawberry.field(description="Who flagged it.")
    created_at: datetime = strawberry.field(description="When (ISO 8601, UTC).")

    @classmethod
    def from_record(cls, territory_id: str, record: FlagRecord) -> ForumFlag:
        type_name = "ForumTopic" if record.kind is ContentKind.TOPIC else "ForumComment"
        return cls(
            reason=record.reason,
            note=record.note,
            target_kind=record.kind,
            target_id=strawberry.ID(ids.encode(type_name, territory_id, str(record.target_id))),
            flagged_by=ForumAuthor.of(record.flagger),
            created_at=record.created_at,
        )


def target_node_id(territory_id: str, kind: ContentKind, key: uuid.UUID) -> str:
    type_name = {
        ContentKind.TOPIC: "ForumTopic",
        ContentKind.COMMENT: "ForumComment",
        ContentKind.USER: "User",
    }[kind]
    return ids.encode(type_name, territory_id, str(key))


@strawberry.type(
    description="One step of a forum's moderation log: who did what, to which content or "
    "person, why, and when. Seen by the forum's moderators only."
)
class ForumModerationEntry(Node):
    action: ModerationAction = strawberry.field(description="What was done.")
    moderator: ForumAuthor | None = strawberry.field(
        description="Who did it (for FLAGGED: who flagged); null for an automatic step."
    )
    target_kind: ContentKind = strawberry.field(description="What it was done to.")
    target_id: strawberry.ID = strawberry.field(
        description="The topic, comment, or (for warnings and restrictions) the `User`."
    )
    subject: ForumAuthor | None = strawberry.field(
        description="The person it concerns (the content's author); they are notified."
    )
    reason: str = strawberry.field(description="The reason given, as written; may be empty.")
    detail: str | None = strawberry.field(
        description="`third_strike` for an automatic restriction, the escalation target for "
        "ESCALATED, a flag reason for FLAGGED; null otherwise."
    )
    created_at: datetime = strawberry.field(description="When (ISO 8601, UTC).")

    @classmethod
    def from_record(cls, territory_id: str, record: LogRecord) -> ForumModerationEntry:
        target_territory = (
            record.subject[0]
            if record.kind is ContentKind.USER and record.subject is not None
            else territory_id
        )
        return cls(
            id=strawberry.ID(ids.encode("ForumModerationEntry", territory_id, str(record.id))),
            action=record.action,
            moderator=None if record.moderator is None else ForumAuthor.of(record.moderator),
            target_kind=record.kind,
            target_id=strawberry.ID(
                target_node_id(target_territory, record.kind, record.target_id)
            ),
            subject=None if record.subject is None else ForumAuthor.of(record.subject),
            reason=record.reason,
            detail=record.detail,
            created_at=record.created_at,
        )


async def log_entry_in(
    info: Info, territory_id: str, key: uuid.UUID
) -> ForumModerationEntry | None:
    """A moderation log entry: only the moderators of its forum see it."""
    record = await info.context.loaders.get(LOG_ENTRY, territory_id).load(key)
    if record is None or record.forum_id is None:
        return None
    access = await forum_by_id(info, territory_id, record.forum_id)
    if access is None or not access.standing.moderates:
        return None
    return ForumModerationEntry.from_record(territory_id, record)
