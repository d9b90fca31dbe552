"""What the forum subscriptions deliver."""

from __future__ import annotations

from datetime import datetime
from enum import Enum

import strawberry

from graph.types.forums.posts import ForumTopic

# --- live


@strawberry.enum(description="What happened to a topic of a forum.")
class ForumTopicEventKind(Enum):
    CREATED = strawberry.enum_value("forum.topic_created", description="It was opened.")
    COMMENTED = strawberry.enum_value(
        "forum.comment_added", description="Someone commented on it (its activity moved)."
    )
    MODERATED = strawberry.enum_value(
        "forum.moderated", description="A moderator closed, reopened, pinned, hid... it."
    )


@strawberry.type(
    description="A topic of a forum just changed; `topic` is read afresh, as you may see it now."
)
class ForumTopicEvent:
    id: strawberry.ID = strawberry.field(description="The event's id (a UUIDv7, time-ordered).")
    kind: ForumTopicEventKind = strawberry.field(description="What happened.")
    occurred_at: datetime = strawberry.field(description="When it was committed (UTC).")
    topic: ForumTopic | None = strawberry.field(
        description="The topic as you may see it now; null when it is hidden from you."
    )
