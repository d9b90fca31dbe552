"""Live forum updates through the events pipeline (events/fanout.py), as ``communityActivity``.

Authorized when a client subscribes (the topic or forum must be visible to it, as ``node(id:)``
would show it) and again for every event, with fresh loaders and a fresh session check; the
subscription ends with NOT_FOUND once the forum is hidden from the caller and UNAUTHENTICATED
once the session ended.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncGenerator, Awaitable, Callable
from typing import Annotated

import strawberry

from domain.errors import NotFound, Unavailable
from domain.events import (
    Envelope,
    EventArea,
    ForumCommentAdded,
    ForumModerated,
    ForumTopicCreated,
    subject_pattern,
)
from graph import ids
from graph.context import Info
from graph.loaders.request import Loaders
from graph.permissions import Public
from graph.types.forums import (
    ForumComment,
    ForumTopic,
    ForumTopicEvent,
    ForumTopicEventKind,
    comment_in,
    forum_by_id,
    topic_in,
)
from resolvers.common import key_of

TOPIC_KINDS = frozenset(t.TYPE for t in (ForumTopicCreated, ForumCommentAdded, ForumModerated))


async def _fresh(
    info: Info, envelope: Envelope, what: tuple[object, ...], ask: Callable[[], Awaitable[None]]
) -> None:
    """Fresh loaders for this event, then the shared per-(event, caller) check."""
    context = info.context
    await context.loaders.close()
    context.loaders = Loaders(context.db, caller=context.caller)

    async def check() -> None:
        if context.auth is not None:
            await context.auth.recheck(context.caller)
        await ask()

    answer = context.shared_checks.check((envelope.id, context.caller, *what), check)
    await asyncio.shield(answer)


async def _events(
    info: Info, territory_id: str, where: Callable[[Envelope], bool]
) -> AsyncGenerator[Envelope, None]:
    fanout = info.context.fanout
    if fanout is None:
        raise Unavailable("Live events are unavailable right now; try again soon.")
    pattern = subject_pattern(territory_id, EventArea.FORUM)
    async with fanout.subscribe(pattern, where=where) as events:
        async for envelope in events:
            yield envelope


@strawberry.type
class ForumSubscriptions:
    @strawberry.subscription(
        description="New comments (and replies) on a topic, as they are posted "
        "(graphql-transport-ws). Each is authorized again before delivery: the subscription "
        "ends with NOT_FOUND once the topic is hidden from you and UNAUTHENTICATED once your "
        "session ended. BAD_USER_INPUT for a malformed id; NOT_FOUND for a topic you cannot "
        "see; SUBSCRIPTION_OVERFLOW when you fell too far behind; SERVICE_UNAVAILABLE while "
        "live events are down.",
        permission_classes=[Public],
    )
    async def comment_added(
        self,
        info: Info,
        topic_id: Annotated[strawberry.ID, strawberry.argument(description="The topic.")],
    ) -> AsyncGenerator[ForumComment, None]:
        territory_id, key = key_of(topic_id, "ForumTopic", field="topicId")
        visible = await topic_in(info, territory_id, key)
        await info.context.loaders.close()
        if visible is None:
            raise NotFound("No such topic.", field="topicId")
        subject = ids.encode("ForumTopic", territory_id, str(key))

        def about_it(envelope: Envelope) -> bool:
            return (
                envelope.type == ForumCommentAdded.TYPE
                and envelope.subjects.get("topic") == subject
            )

        try:
            async for envelope in _events(info, territory_id, about_it):
                comment_key = uuid.UUID(envelope.payload["comment_id"])

                async def ask() -> None:
                    if await topic_in(info, territory_id, key) is None:
                        raise NotFound("No such topic.", field="topicId")

                await _fresh(info, envelope, (territory_id, key), ask)
                found = await comment_in(info, territory_id, comment_key)
                if found is not None:
                    yield ForumComment.from_record(territory_id, found[0])
                await info.context.loaders.close()
        finally:
            await info.context.loaders.close()

    @strawberry.subscription(
        description="Topics of a forum as they are opened, commented on or moderated "
        "(graphql-transport-ws). Authorized again for every event: ends with NOT_FOUND once the "
        "forum is hidden from you and UNAUTHENTICATED once your session ended. BAD_USER_INPUT "
        "for a malformed id; NOT_FOUND for a forum you cannot see; SUBSCRIPTION_OVERFLOW; "
        "SERVICE_UNAVAILABLE while live events are down.",
        permission_classes=[Public],
    )
    async def topic_updated(
        self,
        info: Info,
        forum_id: Annotated[strawberry.ID, strawberry.argument(description="The forum.")],
    ) -> AsyncGenerator[ForumTopicEvent, None]:
        territory_id, key = key_of(forum_id, "Forum", field="forumId")
        visible = await forum_by_id(info, territory_id, key)
        await info.context.loaders.close()
        if visible is None:
            raise NotFound("No such forum.", field="forumId")
        subject = ids.encode("Forum", territory_id, str(key))

        def about_it(envelope: Envelope) -> bool:
            return envelope.type in TOPIC_KINDS and envelope.subjects.get("forum") == subject

        try:
            async for envelope in _events(info, territory_id, about_it):
                payload = envelope.payload
                if envelope.type == ForumModerated.TYPE and payload["kind"] != "topic":
                    topic_key = None
                else:
                    topic_key = uuid.UUID(payload.get("topic_id") or payload["target_id"])

                async def ask() -> None:
                    if await forum_by_id(info, territory_id, key) is None:
                        raise NotFound("No such forum.", field="forumId")

                await _fresh(info, envelope, (territory_id, key), ask)
                if topic_key is not None:
                    found = await topic_in(info, territory_id, topic_key)
                    yield ForumTopicEvent(
                        id=strawberry.ID(str(envelope.id)),
                        kind=ForumTopicEventKind(envelope.type),
                        occurred_at=envelope.occurred_at,
                        topic=None if found is None else ForumTopic.from_record(found[0]),
                    )
                await info.context.loaders.close()
        finally:
            await info.context.loaders.close()
