"""The notification rules (domain/notifications.py) and the events' notify hook, without I/O."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, time

import pytest

from domain.communities import CommunityRole
from domain.events import (
    CommunityCreated,
    CommunityMemberJoined,
    CommunityMemberLeft,
    CommunityMemberRoleChanged,
    Envelope,
    MemberLeftReason,
    RoleGranted,
    RoleRevoked,
    TerritoryRef,
    event_of,
    seal,
)
from domain.notifications import (
    KINDS,
    NOT_STORED,
    Delivery,
    NotificationKind,
    Recipient,
    SubjectRef,
    addressed,
    delivery,
    quiet_until,
)
from domain.profiles import (
    Channel,
    NotificationEvent,
    NotificationPreferences,
    QuietHours,
)
from domain.roles import Role
from graph import ids

USER = uuid.UUID("0190a000-0000-7000-8000-000000000001")
OTHER = uuid.UUID("0190a000-0000-7000-8000-000000000002")
COMMUNITY = uuid.UUID("0190a000-0000-7000-8000-0000000000c1")
NOON = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)


def _recipient(user: uuid.UUID, territory: str = "dk") -> Recipient:
    subject = SubjectRef("Community", territory, str(COMMUNITY))
    return Recipient(user, territory, NotificationKind.COMMUNITY_ROLE_CHANGED, subject)


def _prefs(**channels: set[Channel]) -> NotificationPreferences:
    stored = {e.value: sorted(c.value for c in cs) for e, cs in _by_name(channels).items()}
    return NotificationPreferences.from_json({"channels": stored})


def _by_name(channels: dict[str, set[Channel]]) -> dict[NotificationEvent, set[Channel]]:
    return {NotificationEvent(name): set(cs) for name, cs in channels.items()}


# --- kinds


def test_every_kind_has_a_category_and_a_description() -> None:
    assert set(KINDS) == set(NotificationKind)
    assert all(info.description for info in KINDS.values())


# --- who hears of it


def test_the_actor_is_never_notified_of_their_own_action() -> None:
    actor = ids.encode("User", "dk", str(USER))
    found = addressed([_recipient(USER), _recipient(OTHER)], actor, ids.encode)
    assert [r.user_id for r in found] == [OTHER]


def test_the_same_user_id_in_another_territory_is_not_the_actor() -> None:
    actor = ids.encode("User", "no", str(USER))
    assert addressed([_recipient(USER)], actor, ids.encode) == [_recipient(USER)]


def test_a_person_named_twice_is_notified_once() -> None:
    assert addressed([_recipient(USER), _recipient(USER)], None, ids.encode) == [_recipient(USER)]


def test_events_notify_nobody_by_default() -> None:
    assert CommunityCreated(territory_id="dk", community_id=COMMUNITY).notify() == ()


@pytest.mark.parametrize(
    ("cls", "kind"),
    [(RoleGranted, NotificationKind.ROLE_GRANTED), (RoleRevoked, NotificationKind.ROLE_REVOKED)],
)
def test_a_role_change_notifies_the_person_in_their_home_territory(
    cls: type[RoleGranted] | type[RoleRevoked], kind: NotificationKind
) -> None:
    event = cls(
        territory_id="se", user_id=USER, user_territory=TerritoryRef("dk"), role=Role.MEMBER
    )
    assert event.notify() == (Recipient(USER, "dk", kind, SubjectRef("Territory", "se", "se")),)


def test_a_removed_member_is_notified_and_one_who_left_is_not() -> None:
    subject = SubjectRef("Community", "dk", str(COMMUNITY))
    removed = CommunityMemberLeft(
        territory_id="dk", community_id=COMMUNITY, user_id=USER, reason=MemberLeftReason.REMOVED
    )
    left = CommunityMemberLeft(
        territory_id="dk", community_id=COMMUNITY, user_id=USER, reason=MemberLeftReason.LEFT
    )
    kind = NotificationKind.COMMUNITY_MEMBER_REMOVED
    assert removed.notify() == (Recipient(USER, "dk", kind, subject),)
    assert left.notify() == ()


def test_a_role_change_or_an_addition_in_a_community_notifies_the_member() -> None:
    changed = CommunityMemberRoleChanged(
        territory_id="dk",
        community_id=COMMUNITY,
        user_id=USER,
        role=CommunityRole.ADMIN,
        previous_role=CommunityRole.MEMBER,
    )
    joined = CommunityMemberJoined(
        territory_id="dk", community_id=COMMUNITY, user_id=USER, role=CommunityRole.MEMBER
    )
    assert [r.kind for r in changed.notify()] == [NotificationKind.COMMUNITY_ROLE_CHANGED]
    assert [r.kind for r in joined.notify()] == [NotificationKind.COMMUNITY_MEMBER_ADDED]


# --- the event back out of its envelope


def test_an_event_survives_its_envelope() -> None:
    event = CommunityMemberRoleChanged(
        territory_id="dk",
        community_id=COMMUNITY,
        user_id=USER,
        role=CommunityRole.ADMIN,
        previous_role=CommunityRole.MEMBER,
    )
    envelope = seal(event, actor=None, node_id=ids.encode)
    assert event_of(Envelope.from_json(envelope.to_json())) == event


def test_an_unknown_type_or_a_malformed_payload_reads_as_nothing() -> None:
    event = RoleGranted(
        territory_id="dk", user_id=USER, user_territory=TerritoryRef("dk"), role=Role.MEMBER
    )
    data = seal(event, actor=None, node_id=ids.encode).to_json()
    assert event_of(Envelope.from_json({**data, "version": 99})) is None
    assert (
        event_of(Envelope.from_json({**data, "payload": {**data["payload"], "role": "king"}}))
        is None
    )
    assert event_of(Envelope.from_json({**data, "payload": {"role": "member"}})) is None


# --- preferences and quiet hours


def test_a_category_with_every_channel_off_stores_nothing() -> None:
    prefs = _prefs(community_membership=set())
    assert delivery(prefs, NotificationKind.COMMUNITY_ROLE_CHANGED, NOON) == NOT_STORED


def test_email_only_stores_it_without_a_live_push() -> None:
    prefs = _prefs(community_membership={Channel.EMAIL})
    found = delivery(prefs, NotificationKind.COMMUNITY_ROLE_CHANGED, NOON)
    assert found == Delivery(stored=True, push_after=None)


def test_push_on_outside_quiet_hours_pushes_at_once() -> None:
    prefs = _prefs(community_membership={Channel.PUSH})
    found = delivery(prefs, NotificationKind.COMMUNITY_ROLE_CHANGED, NOON)
    assert found == Delivery(stored=True, push_after=NOON)


def test_security_alerts_are_always_stored_since_their_email_cannot_be_switched_off() -> None:
    prefs = _prefs(security_alert=set())
    found = delivery(prefs, NotificationKind.ROLE_GRANTED, NOON)
    assert found == Delivery(stored=True, push_after=None)


def test_during_quiet_hours_it_is_stored_and_the_push_waits_for_their_end() -> None:
    quiet = QuietHours(time(11, 0), time(13, 30), "UTC")
    prefs = NotificationPreferences(quiet=quiet)
    found = delivery(prefs, NotificationKind.COMMUNITY_ROLE_CHANGED, NOON)
    assert found == Delivery(stored=True, push_after=NOON.replace(hour=13, minute=30))


def test_quiet_hours_end_in_the_persons_time_zone() -> None:
    # 12:00 UTC is 13:00 in Copenhagen (winter): inside 12:00-14:00 there, which ends 13:00 UTC.
    quiet = QuietHours(time(12, 0), time(14, 0), "Europe/Copenhagen")
    assert quiet_until(quiet, NOON) == NOON.replace(hour=13)


def test_a_window_past_midnight_ends_the_next_morning_when_entered_in_the_evening() -> None:
    quiet = QuietHours(time(22, 0), time(7, 0), "UTC")
    evening = NOON.replace(hour=23)
    assert quiet_until(quiet, evening) == datetime(2026, 12, 3, 7, 0, tzinfo=UTC)


def test_a_window_past_midnight_ends_the_same_morning_when_entered_after_midnight() -> None:
    quiet = QuietHours(time(22, 0), time(7, 0), "UTC")
    night = NOON.replace(hour=3)
    assert quiet_until(quiet, night) == NOON.replace(hour=7)


def test_outside_quiet_hours_nothing_waits() -> None:
    quiet = QuietHours(time(22, 0), time(7, 0), "UTC")
    assert quiet_until(quiet, NOON.replace(hour=7)) is None  # the end itself is outside
    assert quiet_until(quiet, NOON.replace(hour=21, minute=59)) is None
