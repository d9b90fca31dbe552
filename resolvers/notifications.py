"""Notifications: mark them read, follow new ones live, refetch one by id. Only their owner may.

Notifications are written by the notifications consumer (events/notifier.py), never by a
mutation; the reads are on ``me`` (graph/types/notifications.py).

``notificationAdded`` follows the caller's own ``notification.created`` events (one per
notification whose live push is due: at once, or when quiet hours end). Before each delivery the
session is checked again and the notification read afresh, as ``communityActivity`` does: a
session that logged out ends the subscription with UNAUTHENTICATED at the next notification.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncGenerator
from typing import Annotated

import strawberry

from db import notifications as notification_db
from domain.errors import BadUserInput, NotFound, Unavailable
from domain.events import Envelope, EventArea, NotificationCreated, subject_pattern
from graph import ids
from graph.context import Info
from graph.loaders.request import Loaders
from graph.permissions import IsAuthenticated
from graph.types.notifications import Notification, notification_by_id, unread_count
from graph.types.relay import Node
from resolvers.common import key_of, territory_change

IDS = "ids"
MAX_IDS = 100


async def notification_node(info: Info, key: ids.NodeKey) -> Node | None:
    return await notification_by_id(info, key.territory_id, ids.parse_uuid(key.key))


@strawberry.input(description="Which of your notifications to mark read: `ids`, or `all`.")
class MarkNotificationsReadInput:
    ids: list[strawberry.ID] | None = strawberry.field(
        default=None,
        description=f"Up to {MAX_IDS} of your `Notification` ids; those read already stay as "
        "they are. Give either this or `all: true`.",
    )
    all: bool = strawberry.field(
        default=False, description="True marks every notification of yours read."
    )


@strawberry.type(description="The result of `markNotificationsRead`.")
class MarkNotificationsReadPayload:
    marked_count: int = strawberry.field(
        description="How many were unread and are read now (0: nothing changed)."
    )
    notifications: list[Notification] = strawberry.field(
        description="The notifications named in `ids`, as they are now; empty for `all`."
    )
    unread_notification_count: int = strawberry.field(
        description="How many of your notifications are still unread."
    )


def _keys(territory_id: str, values: list[strawberry.ID]) -> list[uuid.UUID]:
    if len(values) > MAX_IDS:
        raise BadUserInput(f"At most {MAX_IDS} ids per call.", field=IDS)
    keys = []
    for value in values:
        where, key = key_of(value, "Notification", field=IDS)
        if where != territory_id:
            raise NotFound("No such notification.", field=IDS)
        keys.append(key)
    return list(dict.fromkeys(keys))


@strawberry.type
class NotificationMutations:
    @strawberry.mutation(
        description="Mark your notifications read: those named in `ids`, or all of them. "
        "BAD_USER_INPUT unless exactly one of `ids` (1 to 100) and `all: true` is given, or for "
        "a malformed id; NOT_FOUND for an id that is not one of your notifications (then "
        "nothing is marked).",
        permission_classes=[IsAuthenticated],
    )
    async def mark_notifications_read(
        self,
        info: Info,
        input: Annotated[
            MarkNotificationsReadInput,
            strawberry.argument(description="Which notifications to mark read."),
        ],
    ) -> MarkNotificationsReadPayload:
        territory_id, user_id = info.context.caller.account()
        if (input.ids is not None) == input.all or input.ids == []:
            raise BadUserInput("Give either a non-empty `ids` or `all: true`.", field=IDS)
        keys = None if input.ids is None else _keys(territory_id, input.ids)
        async with territory_change(info, territory_id) as change:
            if keys is not None:
                owned = await notification_db.owned(change.conn, user_id, keys)
                if len(owned) != len(keys):
                    raise NotFound("No such notification.", field=IDS)
            marked = await notification_db.mark_read(change.conn, user_id, keys)
        shown = await asyncio.gather(
            *(notification_by_id(info, territory_id, k) for k in keys or ())
        )
        return MarkNotificationsReadPayload(
            marked_count=len(marked),
            notifications=[n for n in shown if n is not None],
            unread_notification_count=await unread_count(info, territory_id, user_id) or 0,
        )


@strawberry.type
class NotificationSubscriptions:
    @strawberry.subscription(
        description="Your new notifications, as they are pushed (graphql-transport-ws): at once, "
        "or when your quiet hours end; none for kinds whose push you switched off (they are "
        "still listed in `me.notifications`). Only your own, on your own session: it ends with "
        "UNAUTHENTICATED once the session ended. UNAUTHENTICATED when not logged in; "
        "SUBSCRIPTION_OVERFLOW when you fell too far behind (subscribe again); "
        "SERVICE_UNAVAILABLE while live events are down.",
        permission_classes=[IsAuthenticated],
    )
    async def notification_added(self, info: Info) -> AsyncGenerator[Notification, None]:
        territory_id, user_id = info.context.caller.account()
        # A subscription waits for hours: give the read connection back now.
        await info.context.loaders.close()
        fanout = info.context.fanout
        if fanout is None:
            raise Unavailable("Live events are unavailable right now; try again soon.")
        mine = ids.encode("User", territory_id, str(user_id))

        def for_me(envelope: Envelope) -> bool:
            return (
                envelope.type == NotificationCreated.TYPE and envelope.subjects.get("user") == mine
            )

        pattern = subject_pattern(territory_id, EventArea.NOTIFICATION)
        try:
            async with fanout.subscribe(pattern, where=for_me) as events:
                async for envelope in events:
                    found = await _fresh(info, territory_id, envelope)
                    if found is not None:
                        yield found
                    # Its fields are resolved and sent: the connection goes back to the pool.
                    await info.context.loaders.close()
        finally:
            await info.context.loaders.close()


async def _fresh(info: Info, territory_id: str, envelope: Envelope) -> Notification | None:
    """The notification an event announces, read with fresh loaders after the session was
    checked again (UNAUTHENTICATED once it ended); None when it is gone or malformed."""
    context = info.context
    await context.loaders.close()
    context.loaders = Loaders(context.db, caller=context.caller)
    if context.auth is not None:
        await context.auth.recheck(context.caller)
    try:
        key = uuid.UUID(str(envelope.payload["notification_id"]))
    except (KeyError, ValueError):
        return None
    return await notification_by_id(info, territory_id, key)
