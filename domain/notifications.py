"""Notifications: who hears of an event, whether it is kept, and when it is pushed live.

An event class says who should hear of it (``Event.notify`` in domain/events.py returns
:class:`Recipient` values); the rules here decide the rest from the recipient's preferences
(domain/profiles.py ``NotificationPreferences``):

- a notification is stored when any channel of its category is on (e-mail or push): switching a
  category off entirely means no notification at all;
- it is pushed live (``notificationAdded``) only when push is on, and never during quiet hours:
  then the push waits until the window ends, while the notification is stored at once;
- nobody is notified of their own action.

A kind is one line in :class:`NotificationKind` plus its category and description in
:data:`KINDS`.
"""

from __future__ import annotations

import uuid
import zoneinfo
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from domain.profiles import Channel, NotificationEvent, NotificationPreferences, QuietHours


class NotificationKind(StrEnum):
    """What a notification tells its recipient; :data:`KINDS` gives each its category."""

    ROLE_GRANTED = "role_granted"
    ROLE_REVOKED = "role_revoked"
    COMMUNITY_MEMBER_ADDED = "community_member_added"
    COMMUNITY_MEMBER_REMOVED = "community_member_removed"
    COMMUNITY_ROLE_CHANGED = "community_role_changed"
    BADGE_AWARDED = "badge_awarded"
    BADGE_REVOKED = "badge_revoked"
    BADGE_EXPIRED = "badge_expired"
    BADGE_RENEWAL_NEEDED = "badge_renewal_needed"
    FORUM_REPLY = "forum_reply"
    FORUM_MODERATED = "forum_moderated"


@dataclass(frozen=True, slots=True)
class KindInfo:
    category: NotificationEvent
    """The preference (domain/profiles.py) that switches this kind on and off."""
    description: str


KINDS: Mapping[NotificationKind, KindInfo] = {
    NotificationKind.ROLE_GRANTED: KindInfo(
        NotificationEvent.SECURITY_ALERT, "You were granted a role (the subject: its territory)."
    ),
    NotificationKind.ROLE_REVOKED: KindInfo(
        NotificationEvent.SECURITY_ALERT,
        "A role of yours was revoked (the subject: its territory).",
    ),
    NotificationKind.COMMUNITY_MEMBER_ADDED: KindInfo(
        NotificationEvent.COMMUNITY_MEMBERSHIP, "Someone added you to a community."
    ),
    NotificationKind.COMMUNITY_MEMBER_REMOVED: KindInfo(
        NotificationEvent.COMMUNITY_MEMBERSHIP, "Someone removed you from a community."
    ),
    NotificationKind.COMMUNITY_ROLE_CHANGED: KindInfo(
        NotificationEvent.COMMUNITY_MEMBERSHIP, "Someone changed your role in a community."
    ),
    NotificationKind.BADGE_AWARDED: KindInfo(
        NotificationEvent.BADGE_AWARDED, "You were awarded a badge, or yours was renewed."
    ),
    NotificationKind.BADGE_REVOKED: KindInfo(
        NotificationEvent.BADGE_AWARDED, "A badge of yours was revoked (the reason is on it)."
    ),
    NotificationKind.BADGE_EXPIRED: KindInfo(
        NotificationEvent.BADGE_AWARDED, "A badge of yours expired without being renewed."
    ),
    NotificationKind.BADGE_RENEWAL_NEEDED: KindInfo(
        NotificationEvent.BADGE_AWARDED,
        "A badge of yours expires soon (30, 14 or 7 days): renew it to keep what it allows.",
    ),
    NotificationKind.FORUM_REPLY: KindInfo(
        NotificationEvent.COMMUNITY_ACTIVITY, "Someone commented on a topic you opened."
    ),
    NotificationKind.FORUM_MODERATED: KindInfo(
        NotificationEvent.SECURITY_ALERT,
        "A moderator acted on your forum content or your posting rights (hid, restored, warned, "
        "restricted, closed, pinned...); the subject is what they acted on.",
    ),
}


@dataclass(frozen=True, slots=True)
class SubjectRef:
    """What a notification is about, as the parts of a global id (GraphQL type, territory, key)."""

    type_name: str
    territory_id: str
    key: str


@dataclass(frozen=True, slots=True)
class Recipient:
    """One person to notify of an event: their account (home territory, user id), the kind of
    notification and its subject."""

    user_id: uuid.UUID
    territory_id: str
    kind: NotificationKind
    subject: SubjectRef


NodeIdEncoder = Callable[[str, str, str], str]
"""(GraphQL type name, territory id, key) -> global id (graph.ids.encode, passed in)."""


def addressed(
    recipients: Iterable[Recipient], actor: str | None, node_id: NodeIdEncoder
) -> list[Recipient]:
    """``recipients`` without the actor (nobody hears of their own action) and without repeats
    (one notification per person and event, as the table's unique key has it)."""
    seen: set[uuid.UUID] = set()
    found: list[Recipient] = []
    for r in recipients:
        if r.user_id in seen or node_id("User", r.territory_id, str(r.user_id)) == actor:
            continue
        seen.add(r.user_id)
        found.append(r)
    return found


def quiet_until(quiet: QuietHours, moment: datetime) -> datetime | None:
    """When the quiet hours around ``moment`` end (UTC), or None when ``moment`` is outside them."""
    if not quiet.contains(moment):
        return None
    zone = zoneinfo.ZoneInfo(quiet.time_zone)
    local = moment.astimezone(zone)
    end = datetime.combine(local.date(), quiet.end, tzinfo=zone)
    if end <= local:  # a window wrapping past midnight, seen before midnight
        end = datetime.combine(local.date() + timedelta(days=1), quiet.end, tzinfo=zone)
    return end.astimezone(UTC)


@dataclass(frozen=True, slots=True)
class Delivery:
    """What becomes of one notification: kept or not, and when it is pushed live (None: never)."""

    stored: bool
    push_after: datetime | None


NOT_STORED = Delivery(stored=False, push_after=None)


def delivery(prefs: NotificationPreferences, kind: NotificationKind, now: datetime) -> Delivery:
    """The recipient's preferences applied to a notification of ``kind`` created ``now``."""
    category = KINDS[kind].category
    if not any(prefs.enabled(category, channel) for channel in Channel):
        return NOT_STORED
    if not prefs.enabled(category, Channel.PUSH):
        return Delivery(stored=True, push_after=None)
    held = None if prefs.quiet is None else quiet_until(prefs.quiet, now)
    return Delivery(stored=True, push_after=held or now)
