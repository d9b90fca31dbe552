"""A person's notifications as the graph shows them: to their owner only, nobody else.

``me.notifications`` and ``me.unreadNotificationCount`` come from the ``User`` mixin at the end;
they are null on any other account (a manager reading a member's account does not see their
notifications). A notification holds ids only: its subject is resolved as ``node(id:)`` would
resolve it for the caller, so a community hidden from them since shows as null.
"""

from __future__ import annotations

import importlib
import uuid
from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime
from typing import Annotated

import strawberry

from db.notifications import NotificationRecord
from domain.errors import BadUserInput
from domain.notifications import KINDS
from domain.notifications import NotificationKind as DomainNotificationKind
from graph import ids
from graph.context import Info
from graph.loaders.notifications import NOTIFICATION_BY_ID, NOTIFICATION_PAGE, UNREAD_COUNT
from graph.types.enums import described_enum
from graph.types.profiles import Profile, profile_view
from graph.types.relay import After, Connection, First, Node, PersonKey, connection, page_size

NotificationKindEnum = described_enum(
    DomainNotificationKind,
    name="NotificationKind",
    description="What a notification tells you; each kind is switched on and off by one "
    "`NotificationEvent` preference.",
    values={
        kind: f"{info.description} Preference: {info.category.name}."
        for kind, info in KINDS.items()
    },
)

NodeLookup = Callable[[Info, ids.NodeKey], Awaitable[Node | None]]

NODE_REGISTRY = "resolvers.node"
"""Where ``node(id:)`` finds each type's lookup (RESOLVERS). Read at first use: that module
imports every type, this one included."""


def _node_lookups() -> Mapping[str, NodeLookup]:
    found: Mapping[str, NodeLookup] = importlib.import_module(NODE_REGISTRY).RESOLVERS
    return found


@strawberry.type(
    description="Something you were told about: who did what to which object. Only you see "
    "your notifications."
)
class Notification(Node):
    key: strawberry.Private[uuid.UUID]
    kind: DomainNotificationKind = strawberry.field(description="What happened.")
    created_at: datetime = strawberry.field(description="When it was stored (ISO 8601, UTC).")
    read: bool = strawberry.field(
        description="True once you marked it read (`markNotificationsRead`)."
    )
    subject_id: strawberry.Private[str]
    actor_id: strawberry.Private[str | None]

    @classmethod
    def from_record(cls, territory_id: str, record: NotificationRecord) -> Notification:
        return cls(
            id=strawberry.ID(ids.encode("Notification", territory_id, str(record.id))),
            key=record.id,
            kind=record.kind,
            created_at=record.created_at,
            read=record.read_at is not None,
            subject_id=record.subject,
            actor_id=record.actor,
        )

    @strawberry.field(
        description="What it is about (a `Community`, a `Territory`, ...), as `node(id:)` shows "
        "it to you now; null when you can no longer see it."
    )
    async def subject(self, info: Info) -> Node | None:
        try:
            key = ids.decode(self.subject_id)
        except BadUserInput:
            return None
        lookup = _node_lookups().get(key.type_name)
        if lookup is None:
            return None
        try:
            return await lookup(info, key)
        except BadUserInput:
            return None

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


async def notification_by_id(info: Info, territory_id: str, key: uuid.UUID) -> Notification | None:
    """The caller's own notification, or None (someone else's and absent look the same)."""
    record = await info.context.loaders.get(NOTIFICATION_BY_ID, territory_id).load(key)
    if record is None or not info.context.caller.is_account(territory_id, record.user_id):
        return None
    return Notification.from_record(territory_id, record)


def _parse_cursor(value: str | None) -> uuid.UUID | None:
    if value is None:
        return None
    try:
        return uuid.UUID(value)
    except ValueError:
        raise BadUserInput("Malformed cursor.", field="after") from None


async def notifications_of(
    info: Info,
    territory_id: str,
    user_id: uuid.UUID,
    *,
    first: int | None,
    after: str | None,
    unread_only: bool,
) -> Connection[Notification] | None:
    if not info.context.caller.is_account(territory_id, user_id):
        return None
    limit = page_size(first)
    after_raw = ids.decode_cursor(after)
    key = (user_id, unread_only, _parse_cursor(after_raw), limit + 1)
    rows = await info.context.loaders.get(NOTIFICATION_PAGE, territory_id).load(key)
    by_id = info.context.loaders.get(NOTIFICATION_BY_ID, territory_id)
    for row in rows:
        by_id.prime(row.id, row)
    return connection(
        rows,
        limit,
        sort_key=lambda r: str(r.id),
        node=lambda r: Notification.from_record(territory_id, r),
        after=after_raw,
    )


async def unread_count(info: Info, territory_id: str, user_id: uuid.UUID) -> int | None:
    if not info.context.caller.is_account(territory_id, user_id):
        return None
    return await info.context.loaders.get(UNREAD_COUNT, territory_id).load(user_id)


@strawberry.type
class UserNotifications(PersonKey):
    """``User.notifications`` and ``User.unreadNotificationCount``: read them on ``me``."""

    @strawberry.field(
        description="Your notifications, newest first. Null on any account but your own."
    )
    async def notifications(
        self,
        info: Info,
        first: First = None,
        after: After = None,
        unread_only: Annotated[
            bool,
            strawberry.argument(description="True: only those not marked read yet."),
        ] = False,
    ) -> Connection[Notification] | None:
        return await notifications_of(
            info,
            self.territory_code,
            self.user_id,
            first=first,
            after=after,
            unread_only=unread_only,
        )

    @strawberry.field(
        description="How many of your notifications are not marked read. Null on any account "
        "but your own."
    )
    async def unread_notification_count(self, info: Info) -> int | None:
        return await unread_count(info, self.territory_code, self.user_id)
