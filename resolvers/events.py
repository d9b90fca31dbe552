"""GraphQL subscriptions: live events from the process's fan-out (events/fanout.py), never from
polling the database.

Authorization runs twice: when a client subscribes (the community must be visible to it, as
``node(id:)`` would show it), and again for every event before it is delivered, with fresh
loaders and a fresh session check. So a member removed from an invite-only community, or a
session that logged out, stops receiving at the next event: the subscription ends with NOT_FOUND
or UNAUTHENTICATED. A subscriber that falls behind its bounded queue ends alone with
SUBSCRIPTION_OVERFLOW; the others never wait for it.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncGenerator
from typing import Annotated

import strawberry

from domain.errors import NotFound, Unavailable
from domain.events import Envelope, EventArea, subject_pattern
from graph import ids
from graph.context import Info
from graph.loaders.request import Loaders
from graph.permissions import Public
from graph.types.communities import community_by_id
from graph.types.events import COMMUNITY_KINDS, CommunityActivity
from resolvers.common import key_of

COMMUNITY_ID = "communityId"


async def _still_visible(info: Info, envelope: Envelope, territory_id: str, key: uuid.UUID) -> None:
    """Re-authorize for this event: the session still stands, the community is still visible.

    Each event gets fresh loaders (those of the previous one are closed): they serve this event's
    fields (``actor``). The check itself is asked once per (event, caller) in the process and
    its answer shared (graph.context.SharedChecks): subscribers with the same caller would read
    the same rows for the same event.
    """
    context = info.context
    await context.loaders.close()
    context.loaders = Loaders(context.db, caller=context.caller)

    async def ask() -> None:
        if context.auth is not None:
            await context.auth.recheck(context.caller)  # UNAUTHENTICATED once the session ended
        if await community_by_id(info, territory_id, key) is None:
            raise NotFound("No such community.", field=COMMUNITY_ID)

    answer = context.shared_checks.check((envelope.id, context.caller, territory_id, key), ask)
    await asyncio.shield(answer)  # a subscriber leaving must not cancel the others' answer


@strawberry.type
class EventSubscriptions:
    @strawberry.subscription(
        description="What happens in a community, as it happens (graphql-transport-ws). Anyone "
        "may follow a public community; an invite-only one only its members and the territory's "
        "managers. Each event is authorized again before delivery: the subscription ends with "
        "NOT_FOUND once the community is hidden from you (you were removed, say) and with "
        "UNAUTHENTICATED once your session ended. BAD_USER_INPUT for a malformed id; NOT_FOUND "
        "for a community you cannot see; SUBSCRIPTION_OVERFLOW when you fell too far behind "
        "(subscribe again); SERVICE_UNAVAILABLE while live events are down.",
        permission_classes=[Public],
    )
    async def community_activity(
        self,
        info: Info,
        community_id: Annotated[
            strawberry.ID, strawberry.argument(description="The community to follow.")
        ],
    ) -> AsyncGenerator[CommunityActivity, None]:
        territory_id, key = key_of(community_id, "Community", field=COMMUNITY_ID)
        visible = await community_by_id(info, territory_id, key)
        # Give the read connection back now: a subscription waits for hours, and every idle
        # subscriber holding one would empty the pool.
        await info.context.loaders.close()
        if visible is None:
            raise NotFound("No such community.", field=COMMUNITY_ID)
        fanout = info.context.fanout
        if fanout is None:
            raise Unavailable("Live events are unavailable right now; try again soon.")
        subject = ids.encode("Community", territory_id, str(key))

        def about_it(envelope: Envelope) -> bool:
            return (
                envelope.type in COMMUNITY_KINDS and envelope.subjects.get("community") == subject
            )

        pattern = subject_pattern(territory_id, EventArea.COMMUNITY)
        try:
            async with fanout.subscribe(pattern, where=about_it) as events:
                async for envelope in events:
                    await _still_visible(info, envelope, territory_id, key)
                    yield CommunityActivity.from_envelope(envelope)
                    # Resumed once the event's fields are resolved and sent: its reads are done,
                    # so its connection goes back to the pool until the next event.
                    await info.context.loaders.close()
        finally:
            await info.context.loaders.close()
