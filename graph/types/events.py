"""Live events as GraphQL sees them: what a subscription delivers.

An event type carries ids and enums only, like the domain event it comes from: a subscriber
reads names and text through queries, where privacy and permissions apply to whoever asks.
Events are not Nodes: they are delivered once and not stored for refetching (the stream keeps
them for replay by consumers, the API does not read it back).
"""

from __future__ import annotations

from datetime import datetime
from enum import Enum

import strawberry

from domain.errors import BadUserInput
from domain.events import (
    CommunityCreated,
    CommunityMemberJoined,
    CommunityMemberLeft,
    CommunityMemberRoleChanged,
    Envelope,
)
from graph import ids
from graph.context import Info
from graph.types.profiles import Profile, profile_view


@strawberry.enum(description="What happened in a community.")
class CommunityActivityKind(Enum):
    CREATED = strawberry.enum_value("community.created", description="The community was created.")
    MEMBER_JOINED = strawberry.enum_value(
        "community.member_joined",
        description="Someone became a member (joined, or was added by an admin).",
    )
    MEMBER_LEFT = strawberry.enum_value(
        "community.member_left",
        description="A membership ended (the member left, or an admin removed them).",
    )
    MEMBER_ROLE_CHANGED = strawberry.enum_value(
        "community.member_role_changed", description="A member's role changed."
    )


COMMUNITY_KINDS: frozenset[str] = frozenset(
    t.TYPE
    for t in (
        CommunityCreated,
        CommunityMemberJoined,
        CommunityMemberLeft,
        CommunityMemberRoleChanged,
    )
)
"""Event types a ``communityActivity`` subscriber receives."""


@strawberry.type(
    description="Something that just happened in a community. Ids only: read names and details "
    "through queries, where the usual privacy applies."
)
class CommunityActivity:
    id: strawberry.ID = strawberry.field(
        description="The event's id (a UUIDv7, time-ordered): the same on every replica and on "
        "the NATS stream, so a client seeing an event twice can tell."
    )
    kind: CommunityActivityKind = strawberry.field(description="What happened.")
    occurred_at: datetime = strawberry.field(description="When it was committed (UTC).")
    actor_id: strawberry.Private[str | None]
    # The event id: subscribers that are the same caller get one execution of it
    # (graph/shared_events.py).
    shared_key: strawberry.Private[str | None] = None

    @strawberry.field(
        description="Who did it: their profile, showing what its privacy settings let you see; "
        "null for changes nobody signed in made, and for profiles that show you nothing."
    )
    async def actor(self, info: Info) -> Profile | None:
        if self.actor_id is None:
            return None
        try:
            key = ids.decode(self.actor_id)
            user_id = ids.parse_uuid(key.key)
        except BadUserInput:
            return None
        return await profile_view(info, key.territory_id, user_id)

    @classmethod
    def from_envelope(cls, envelope: Envelope) -> CommunityActivity:
        return cls(
            id=strawberry.ID(str(envelope.id)),
            kind=CommunityActivityKind(envelope.type),
            occurred_at=envelope.occurred_at,
            actor_id=envelope.actor,
            shared_key=str(envelope.id),
        )
