"""Domain events: the registry of what can happen, and the envelope every event travels in.

An event says *that* something changed, never *what it now says*: payloads hold ids and enum values
only (never a name, email, bio or any free text), so a stream retained for days, a consumer in
another territory or a log line never carries personal data. A consumer that needs more reads it
through the API, where privacy and permissions apply to whoever asks.

Each event type has a name ``<area>.<event>`` (the NATS subject is
``unityplan.<territory>.<area>.<event>``), a version, and a payload class whose fields are typed
with :data:`ALLOWED_FIELD_TYPES` only; the registry checks this when a class is registered, and the
AsyncAPI document (events/asyncapi.py) is generated from it. A change of a payload's meaning or
shape is a new version (a new class with the same name and ``VERSION + 1``), so consumers can tell
old events from new ones in the retained stream.
"""

from __future__ import annotations

import dataclasses
import re
import types
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, ClassVar, NewType, TypeVar, get_args, get_origin, get_type_hints

from uuid_utils import compat as uuid7_source

from domain.communities import CommunityRole
from domain.errors import BadUserInput
from domain.files import FilePurpose
from domain.forums import ContentKind, FlagReason, ModerationAction
from domain.notifications import NotificationKind, Recipient, SubjectRef
from domain.privacy import ProfileField
from domain.roles import Role
from domain.territories import validate_territory_id

SUBJECT_PREFIX = "unityplan"
"""First token of every event subject: ``unityplan.<territory>.<area>.<event>``."""

TerritoryRef = NewType("TerritoryRef", str)
"""A territory id inside a payload (e.g. the territory a role was granted in)."""

NodeIdEncoder = Callable[[str, str, str], str]
"""(GraphQL type name, territory id, key) -> the Relay global id clients know the object by."""

_NAME = re.compile(r"[a-z][a-z_]*\.[a-z][a-z_]*")


class EventArea(StrEnum):
    """The area an event belongs to: the third token of its subject."""

    ACCOUNT = "account"
    COMMUNITY = "community"
    ROLE = "role"
    PROFILE = "profile"
    NOTIFICATION = "notification"
    BADGE = "badge"
    FILE = "file"
    FORUM = "forum"


class MemberLeftReason(StrEnum):
    """Why a membership ended."""

    LEFT = "left"
    REMOVED = "removed"


@dataclass(frozen=True, slots=True, kw_only=True)
class Event:
    """Base of every payload class. ``territory_id`` is where it happened (the subject's territory
    token), not part of the payload."""

    TYPE: ClassVar[str]
    VERSION: ClassVar[int]
    DESCRIPTION: ClassVar[str]
    SUBJECTS: ClassVar[Mapping[str, str]] = {}
    """Payload field -> the GraphQL type its id names: they become the envelope's ``subjects``
    (global ids), what a subscription filters and authorizes on."""
    PERSON: ClassVar[str] = "user_id"
    """The payload field naming the person the event counts for (whose action or whose change
    it is): what a badge's automatic-award rule counts per person. ``user_id`` unless a class
    names another (forum events: ``author_id``); an event without such a field counts for no
    one and cannot be a rule's event."""

    territory_id: str

    def notify(self) -> tuple[Recipient, ...]:
        """Who should hear of this event: the notifications hook (domain/notifications.py).

        None by default. An event a person should hear of overrides it and returns one
        :class:`Recipient` per person (their account, a ``NotificationKind``, the subject); the
        notifications consumer stores what their preferences allow and never notifies the actor
        of their own action, so an override need not check either.
        """
        return ()

    def payload(self) -> dict[str, Any]:
        """The payload as JSON values: uuids and enums as strings, tuples as lists."""
        return {
            f.name: _json_value(getattr(self, f.name))
            for f in dataclasses.fields(self)
            if f.name != "territory_id"
        }


def _json_value(value: object) -> object:
    if isinstance(value, tuple):
        return [_json_value(v) for v in value]
    if isinstance(value, uuid.UUID | StrEnum):
        return str(value)
    return value


ALLOWED_FIELD_TYPES = "uuid.UUID, a StrEnum, TerritoryRef, or a tuple of one of these"


def _field_schema(annotation: object) -> dict[str, Any]:
    """JSON Schema of one payload field; TypeError for anything but ids and enums."""
    if annotation is uuid.UUID:
        return {"type": "string", "format": "uuid"}
    if annotation is TerritoryRef:
        return {"type": "string", "description": "A territory id."}
    if isinstance(annotation, type) and issubclass(annotation, StrEnum):
        return {"type": "string", "enum": [m.value for m in annotation]}
    if get_origin(annotation) is tuple:
        args = get_args(annotation)
        if len(args) == 2 and args[1] is Ellipsis:
            return {"type": "array", "items": _field_schema(args[0])}
    raise TypeError(f"payload fields hold ids and enums only ({ALLOWED_FIELD_TYPES})")


@dataclass(frozen=True, slots=True)
class EventType:
    """One registered event type: what the AsyncAPI document and consumers know about it."""

    name: str
    version: int
    description: str
    cls: type[Event]
    payload_schema: Mapping[str, Any]
    person: str | None
    """The payload field naming the person it counts for (``Event.PERSON``), if it has one."""

    @property
    def area(self) -> str:
        return self.name.split(".", 1)[0]

    @property
    def event(self) -> str:
        return self.name.split(".", 1)[1]


REGISTRY: dict[tuple[str, int], EventType] = {}
"""Every event type by (name, version)."""

E = TypeVar("E", bound=type[Event])


def register(cls: E) -> E:
    """Class decorator: check the payload holds only ids and enums, then add it to the registry."""
    name, version = cls.TYPE, cls.VERSION
    if _NAME.fullmatch(name) is None or name.split(".")[0] not in set(EventArea):
        raise TypeError(f"event name {name!r} is not '<area>.<event>' with a known area")
    if (name, version) in REGISTRY:
        raise TypeError(f"event {name} v{version} is registered twice")
    hints = get_type_hints(cls)
    properties: dict[str, Any] = {}
    for f in dataclasses.fields(cls):
        if f.name == "territory_id":
            continue
        try:
            properties[f.name] = _field_schema(hints[f.name])
        except TypeError as error:
            raise TypeError(f"{cls.__name__}.{f.name}: {error}") from None
    unknown = set(cls.SUBJECTS) - set(properties)
    if unknown:
        raise TypeError(f"{cls.__name__}.SUBJECTS names no payload field: {sorted(unknown)}")
    person = cls.PERSON if hints.get(cls.PERSON) is uuid.UUID else None
    if person is None and "PERSON" in vars(cls):
        raise TypeError(f"{cls.__name__}.PERSON names no uuid payload field: {cls.PERSON!r}")
    schema = {
        "type": "object",
        "additionalProperties": False,
        "required": sorted(properties),
        "properties": properties,
    }
    REGISTRY[(name, version)] = EventType(name, version, cls.DESCRIPTION, cls, schema, person)
    return cls


def event_type(name: str, version: int) -> EventType | None:
    return REGISTRY.get((name, version))


def person_fields() -> dict[str, str]:
    """Event name -> the payload field naming the person it counts for (the newest version's),
    for the event types that have one: what automatic-award rules may name."""
    found: dict[str, str] = {}
    for (name, _), event in sorted(REGISTRY.items()):
        if event.person is not None:
            found[name] = event.person
        else:
            found.pop(name, None)
    return found


# --- the events of what exists now. Each later area registers its own in this style.


@register
@dataclass(frozen=True, slots=True, kw_only=True)
class AccountRegistered(Event):
    TYPE = "account.registered"
    VERSION = 1
    DESCRIPTION = "A person registered an account in the territory."
    SUBJECTS = {"user_id": "User"}
    user_id: uuid.UUID


@register
@dataclass(frozen=True, slots=True, kw_only=True)
class CommunityCreated(Event):
    TYPE = "community.created"
    VERSION = 1
    DESCRIPTION = "A community was created; its creator is the actor and its first admin."
    SUBJECTS = {"community_id": "Community"}
    community_id: uuid.UUID


@register
@dataclass(frozen=True, slots=True, kw_only=True)
class CommunityMemberJoined(Event):
    TYPE = "community.member_joined"
    VERSION = 1
    DESCRIPTION = "A person became a member of a community (joined, or was added by an admin)."
    SUBJECTS = {"community_id": "Community", "user_id": "User"}
    community_id: uuid.UUID
    user_id: uuid.UUID
    role: CommunityRole

    def notify(self) -> tuple[Recipient, ...]:
        # Joining oneself makes the member the actor: only an admin's addition notifies.
        subject = SubjectRef("Community", self.territory_id, str(self.community_id))
        kind = NotificationKind.COMMUNITY_MEMBER_ADDED
        return (Recipient(self.user_id, self.territory_id, kind, subject),)


@register
@dataclass(frozen=True, slots=True, kw_only=True)
class CommunityMemberLeft(Event):
    TYPE = "community.member_left"
    VERSION = 1
    DESCRIPTION = "A membership ended: the member left, or an admin removed them."
    SUBJECTS = {"community_id": "Community", "user_id": "User"}
    community_id: uuid.UUID
    user_id: uuid.UUID
    reason: MemberLeftReason

    def notify(self) -> tuple[Recipient, ...]:
        if self.reason is not MemberLeftReason.REMOVED:
            return ()
        subject = SubjectRef("Community", self.territory_id, str(self.community_id))
        kind = NotificationKind.COMMUNITY_MEMBER_REMOVED
        return (Recipient(self.user_id, self.territory_id, kind, subject),)


@register
@dataclass(frozen=True, slots=True, kw_only=True)
class CommunityMemberRoleChanged(Event):
    TYPE = "community.member_role_changed"
    VERSION = 1
    DESCRIPTION = "A member's role in a community changed from previous_role to role."
    SUBJECTS = {"community_id": "Community", "user_id": "User"}
    community_id: uuid.UUID
    user_id: uuid.UUID
    role: CommunityRole
    previous_role: CommunityRole

    def notify(self) -> tuple[Recipient, ...]:
        subject = SubjectRef("Community", self.territory_id, str(self.community_id))
        kind = NotificationKind.COMMUNITY_ROLE_CHANGED
        return (Recipient(self.user_id, self.territory_id, kind, subject),)


@register
@dataclass(frozen=True, slots=True, kw_only=True)
class RoleGranted(Event):
    TYPE = "role.granted"
    VERSION = 1
    DESCRIPTION = (
        "A role was granted to a person. The subject's territory is the one the role applies in "
        "('global' for global_admin); user_territory is the person's home territory."
    )
    SUBJECTS = {"user_id": "User"}
    user_id: uuid.UUID
    user_territory: TerritoryRef
    role: Role

    def notify(self) -> tuple[Recipient, ...]:
        # Stored in the grantee's home territory; the subject is the role's territory.
        subject = SubjectRef("Territory", self.territory_id, self.territory_id)
        kind = NotificationKind.ROLE_GRANTED
        return (Recipient(self.user_id, self.user_territory, kind, subject),)


@register
@dataclass(frozen=True, slots=True, kw_only=True)
class RoleRevoked(Event):
    TYPE = "role.revoked"
    VERSION = 1
    DESCRIPTION = (
        "A role grant was revoked. The subject's territory is the one the role applied in; "
        "user_territory is the person's home territory."
    )
    SUBJECTS = {"user_id": "User"}
    user_id: uuid.UUID
    user_territory: TerritoryRef
    role: Role

    def notify(self) -> tuple[Recipient, ...]:
        # Stored in the grantee's home territory; the subject is the role's territory.
        subject = SubjectRef("Territory", self.territory_id, self.territory_id)
        kind = NotificationKind.ROLE_REVOKED
        return (Recipient(self.user_id, self.user_territory, kind, subject),)


@register
@dataclass(frozen=True, slots=True, kw_only=True)
class ProfileUpdated(Event):
    TYPE = "profile.updated"
    VERSION = 1
    DESCRIPTION = (
        "A person changed their profile; fields names what changed (never the new values: a "
        "consumer reads them through the API, where the profile's privacy applies)."
    )
    SUBJECTS = {"user_id": "User"}
    user_id: uuid.UUID
    fields: tuple[ProfileField, ...]


@register
@dataclass(frozen=True, slots=True, kw_only=True)
class NotificationCreated(Event):
    TYPE = "notification.created"
    VERSION = 1
    DESCRIPTION = (
        "A notification of user_id became due for live delivery (at once, or when their quiet "
        "hours ended): what the API processes push to that person's notificationAdded "
        "subscriptions. Written by the notifications consumer, never by a mutation."
    )
    SUBJECTS = {"notification_id": "Notification", "user_id": "User"}
    notification_id: uuid.UUID
    user_id: uuid.UUID
    kind: NotificationKind


class RenewalNotice(StrEnum):
    """Days before a badge's expiry a renewal notice is sent (each once per validity)."""

    DAYS_30 = "30"
    DAYS_14 = "14"
    DAYS_7 = "7"


@dataclass(frozen=True, slots=True, kw_only=True)
class BadgeAwardEvent(Event):
    """What every badge award event carries: the award, its holder (an account of the event's
    territory, where the award lives) and the badge with its home (``global`` or a territory)."""

    SUBJECTS = {"award_id": "BadgeAward", "user_id": "User"}
    NOTIFICATION: ClassVar[NotificationKind]
    award_id: uuid.UUID
    user_id: uuid.UUID
    badge_id: uuid.UUID
    badge_home: TerritoryRef

    def notify(self) -> tuple[Recipient, ...]:
        # The holder hears of every change to their award (a self-award, as accepting the Code
        # of Conduct, is dropped as the actor's own action).
        subject = SubjectRef("BadgeAward", self.territory_id, str(self.award_id))
        return (Recipient(self.user_id, self.territory_id, self.NOTIFICATION, subject),)


@register
@dataclass(frozen=True, slots=True, kw_only=True)
class BadgeAwarded(BadgeAwardEvent):
    TYPE = "badge.awarded"
    VERSION = 1
    NOTIFICATION = NotificationKind.BADGE_AWARDED
    DESCRIPTION = (
        "A badge was awarded to a person, or renewed (by hand, by a rule, or by accepting the "
        "Code of Conduct). The subject's territory is the holder's."
    )


@register
@dataclass(frozen=True, slots=True, kw_only=True)
class BadgeRevoked(BadgeAwardEvent):
    TYPE = "badge.revoked"
    VERSION = 1
    NOTIFICATION = NotificationKind.BADGE_REVOKED
    DESCRIPTION = "A person's badge was revoked (the reason is read through the API)."


@register
@dataclass(frozen=True, slots=True, kw_only=True)
class BadgeExpired(BadgeAwardEvent):
    TYPE = "badge.expired"
    VERSION = 1
    NOTIFICATION = NotificationKind.BADGE_EXPIRED
    DESCRIPTION = "A person's badge reached the end of its validity without being renewed."


@register
@dataclass(frozen=True, slots=True, kw_only=True)
class BadgeRenewalNeeded(BadgeAwardEvent):
    TYPE = "badge.renewal_needed"
    VERSION = 1
    NOTIFICATION = NotificationKind.BADGE_RENEWAL_NEEDED
    DESCRIPTION = (
        "A person's badge expires in days_before days (30, 14 or 7): each notice is sent once "
        "per validity, a missed one once when the scheduler is back."
    )
    days_before: RenewalNotice


@register
@dataclass(frozen=True, slots=True, kw_only=True)
class ForumTopicCreated(Event):
    TYPE = "forum.topic_created"
    VERSION = 1
    DESCRIPTION = (
        "A topic was opened in a forum. author_territory and author_id name its author (in a "
        "global forum, an account of any territory)."
    )
    SUBJECTS = {"forum_id": "Forum", "topic_id": "ForumTopic"}
    PERSON = "author_id"
    forum_id: uuid.UUID
    topic_id: uuid.UUID
    author_territory: TerritoryRef
    author_id: uuid.UUID


@register
@dataclass(frozen=True, slots=True, kw_only=True)
class ForumCommentAdded(Event):
    TYPE = "forum.comment_added"
    VERSION = 1
    DESCRIPTION = (
        "A comment (or a reply) was added to a topic. author_territory and author_id name its "
        "author; topic_author_territory and topic_author_id the topic's, who may be notified."
    )
    SUBJECTS = {"forum_id": "Forum", "topic_id": "ForumTopic", "comment_id": "ForumComment"}
    PERSON = "author_id"
    forum_id: uuid.UUID
    topic_id: uuid.UUID
    comment_id: uuid.UUID
    author_territory: TerritoryRef
    author_id: uuid.UUID
    topic_author_territory: TerritoryRef
    topic_author_id: uuid.UUID

    def notify(self) -> tuple[Recipient, ...]:
        # The topic's author hears of comments on it (their own comments drop as the actor's).
        subject = SubjectRef("ForumComment", self.territory_id, str(self.comment_id))
        kind = NotificationKind.FORUM_REPLY
        return (Recipient(self.topic_author_id, self.topic_author_territory, kind, subject),)


@register
@dataclass(frozen=True, slots=True, kw_only=True)
class ForumContentFlagged(Event):
    TYPE = "forum.content_flagged"
    VERSION = 1
    DESCRIPTION = (
        "Someone flagged a topic or comment for the forum's moderators; author_territory and "
        "author_id name the flagged content's author."
    )
    SUBJECTS = {"forum_id": "Forum"}
    forum_id: uuid.UUID
    kind: ContentKind
    target_id: uuid.UUID
    reason: FlagReason
    author_territory: TerritoryRef
    author_id: uuid.UUID


@register
@dataclass(frozen=True, slots=True, kw_only=True)
class ForumModerated(Event):
    TYPE = "forum.moderated"
    VERSION = 1
    DESCRIPTION = (
        "A moderator acted (hid, restored, warned, restricted, closed, pinned, escalated...). "
        "subject_territory and subject_id name the person it concerns (the content's author), "
        "who is notified; entry_id is the moderation log entry."
    )
    SUBJECTS = {"forum_id": "Forum", "entry_id": "ForumModerationEntry"}
    forum_id: uuid.UUID
    entry_id: uuid.UUID
    action: ModerationAction
    kind: ContentKind
    target_id: uuid.UUID
    subject_territory: TerritoryRef
    subject_id: uuid.UUID

    def notify(self) -> tuple[Recipient, ...]:
        # A flag (and its dismissal) is the moderators' business until they act on it.
        if self.action in (ModerationAction.FLAGGED, ModerationAction.FLAG_DISMISSED):
            return ()
        if self.kind is ContentKind.USER:
            subject = SubjectRef("User", self.subject_territory, str(self.subject_id))
        else:
            content = "ForumTopic" if self.kind is ContentKind.TOPIC else "ForumComment"
            subject = SubjectRef(content, self.territory_id, str(self.target_id))
        kind = NotificationKind.FORUM_MODERATED
        return (Recipient(self.subject_id, self.subject_territory, kind, subject),)


# --- the envelope


@register
@dataclass(frozen=True, slots=True, kw_only=True)
class FileUploaded(Event):
    TYPE = "file.uploaded"
    VERSION = 1
    DESCRIPTION = (
        "A person stored a new file (pinned on IPFS); its CID and type are read through the API."
    )
    SUBJECTS = {"file_id": "File", "owner_id": "User"}
    file_id: uuid.UUID
    owner_id: uuid.UUID
    purpose: FilePurpose


@register
@dataclass(frozen=True, slots=True, kw_only=True)
class FileDeleted(Event):
    TYPE = "file.deleted"
    VERSION = 1
    DESCRIPTION = (
        "A file nothing referenced any more was deleted (and unpinned unless another file has "
        "the same content)."
    )
    SUBJECTS = {"file_id": "File", "owner_id": "User"}
    file_id: uuid.UUID
    owner_id: uuid.UUID
    purpose: FilePurpose


def subject_pattern(territory: str = "*", area: EventArea | None = None) -> str:
    """A NATS subject pattern: every event of a territory (or of all, ``*``), or of one area."""
    scope = territory if territory == "*" else validate_territory_id(territory)
    return f"{SUBJECT_PREFIX}.{scope}.{area.value if area else '*'}.*"


def new_event_id() -> uuid.UUID:
    """A UUIDv7 (RFC 9562): time-ordered, so ordering by id is ordering by creation."""
    return uuid7_source.uuid7()


@dataclass(frozen=True, slots=True)
class Envelope:
    """What is stored in the outbox and published: the event with who, when and about what.

    ``actor`` and ``subjects`` are Relay global ids (what clients know objects by); ``actor`` is
    None for a change nobody signed in made (an operator's command, a registration).
    """

    id: uuid.UUID
    type: str
    version: int
    territory: str
    occurred_at: datetime
    actor: str | None
    subjects: Mapping[str, str]
    payload: Mapping[str, Any]

    @property
    def area(self) -> str:
        return self.type.split(".", 1)[0]

    @property
    def subject(self) -> str:
        """The NATS subject: ``unityplan.<territory>.<area>.<event>``."""
        return f"{SUBJECT_PREFIX}.{self.territory}.{self.type}"

    def to_json(self) -> dict[str, Any]:
        return {
            "id": str(self.id),
            "type": self.type,
            "version": self.version,
            "territory": self.territory,
            "occurredAt": self.occurred_at.isoformat(),
            "actor": self.actor,
            "subjects": dict(self.subjects),
            "payload": dict(self.payload),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Envelope:
        return cls(
            id=uuid.UUID(data["id"]),
            type=data["type"],
            version=int(data["version"]),
            territory=data["territory"],
            occurred_at=datetime.fromisoformat(data["occurredAt"]),
            actor=data["actor"],
            subjects=types.MappingProxyType(dict(data["subjects"])),
            payload=types.MappingProxyType(dict(data["payload"])),
        )


def event_of(envelope: Envelope) -> Event | None:
    """The event inside ``envelope`` (payload values typed again), or None for an unknown type or
    version or a payload that does not match its class: consumers skip what they cannot read."""
    known = event_type(envelope.type, envelope.version)
    if known is None:
        return None
    hints = get_type_hints(known.cls)
    try:
        values = {
            f.name: _typed(hints[f.name], envelope.payload[f.name])
            for f in dataclasses.fields(known.cls)
            if f.name != "territory_id"
        }
        return known.cls(territory_id=validate_territory_id(envelope.territory), **values)
    except (KeyError, TypeError, ValueError, AttributeError, BadUserInput):
        return None


def _typed(annotation: object, value: object) -> object:
    if get_origin(annotation) is tuple:
        if not isinstance(value, list):
            raise TypeError("expected a list")
        return tuple(_typed(get_args(annotation)[0], v) for v in value)
    if not isinstance(value, str):
        raise TypeError("expected a string")
    if annotation is uuid.UUID:
        return uuid.UUID(value)
    if isinstance(annotation, type) and issubclass(annotation, StrEnum):
        return annotation(value)
    return value  # TerritoryRef


def seal(event: Event, *, actor: str | None, node_id: NodeIdEncoder) -> Envelope:
    """Put ``event`` in its envelope: a fresh time-ordered id, now, the actor, the subjects' ids.

    ``node_id`` renders the subjects as global ids (graph.ids.encode); it is passed in because
    the id format belongs to the API layer.
    """
    cls = type(event)
    if event_type(cls.TYPE, cls.VERSION) is None:
        raise TypeError(f"{cls.__name__} is not registered")
    territory = validate_territory_id(event.territory_id)
    subjects = {
        field.removesuffix("_id"): node_id(type_name, territory, str(getattr(event, field)))
        for field, type_name in cls.SUBJECTS.items()
    }
    return Envelope(
        id=new_event_id(),
        type=cls.TYPE,
        version=cls.VERSION,
        territory=territory,
        occurred_at=datetime.now(UTC),
        actor=actor,
        subjects=types.MappingProxyType(subjects),
        payload=types.MappingProxyType(event.payload()),
    )


ENVELOPE_SCHEMA: Mapping[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": [
        "id",
        "type",
        "version",
        "territory",
        "occurredAt",
        "actor",
        "subjects",
        "payload",
    ],
    "properties": {
        "id": {
            "type": "string",
            "format": "uuid",
            "description": "UUIDv7 (time-ordered); also the Nats-Msg-Id header: consumers "
            "de-duplicate on it.",
        },
        "type": {"type": "string", "description": "'<area>.<event>'."},
        "version": {"type": "integer", "minimum": 1, "description": "Payload schema version."},
        "territory": {"type": "string", "description": "Territory id where it happened."},
        "occurredAt": {
            "type": "string",
            "format": "date-time",
            "description": "When the change was made (ISO 8601, UTC).",
        },
        "actor": {
            "type": ["string", "null"],
            "description": "Global id of the User who made the change; null for none.",
        },
        "subjects": {
            "type": "object",
            "additionalProperties": {"type": "string"},
            "description": "Global ids of the objects the event is about, by role "
            "('community', 'user').",
        },
        "payload": {"type": "object", "description": "Ids and enum values only."},
    },
}
"""JSON Schema of the envelope (the payload's own schema is per event type)."""
