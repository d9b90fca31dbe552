"""The consumer's apply step against the real database: once per event and person, as the
person's preferences allow, pushes held through quiet hours. Read back through GraphQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from db.engines import Database
from domain.communities import CommunityRole
from domain.events import CommunityMemberRoleChanged, RoleGranted, TerritoryRef
from domain.roles import Role
from graph import ids
from tests.authkit import account, call
from tests.notifications.conftest import (
    Clock,
    envelope_of,
    offline_notifier,
    pushes_of,
    user_key,
)

NOTES = """
query($unread: Boolean! = false) {
  me {
    unreadNotificationCount
    notifications(first: 10, unreadOnly: $unread) {
      nodes { id kind read createdAt subject { id __typename } actor { id } }
    }
  }
}"""
PREFS = """
mutation($i: UpdateNotificationPreferencesInput!) {
  updateNotificationPreferences(input: $i) { notificationPreferences { quietHours { start } } }
}"""
NOON = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)


def ok(body: dict[str, Any]) -> dict[str, Any]:
    assert "errors" not in body, body
    data: dict[str, Any] = body["data"]
    return data


async def notes(client: httpx.AsyncClient, person: dict[str, Any]) -> dict[str, Any]:
    found: dict[str, Any] = ok(await call(client, NOTES, token=person["accessToken"]))["me"]
    return found


def granted(person: dict[str, Any], territory: str = "dk") -> RoleGranted:
    home = ids.decode(person["user"]["id"]).territory_id
    return RoleGranted(
        territory_id=territory,
        user_id=user_key(person["user"]["id"]),
        user_territory=TerritoryRef(home),
        role=Role.MODERATOR,
    )


def role_changed(person: dict[str, Any]) -> CommunityMemberRoleChanged:
    return CommunityMemberRoleChanged(
        territory_id="dk",
        community_id=user_key(person["user"]["id"]),  # any id: the subject may be gone
        user_id=user_key(person["user"]["id"]),
        role=CommunityRole.ADMIN,
        previous_role=CommunityRole.MEMBER,
    )


async def test_an_event_is_stored_once_however_often_it_is_delivered(
    auth_client: httpx.AsyncClient, db: Database
) -> None:
    alice = await account(auth_client, db, "dk")
    manager = await account(auth_client, db, "dk", role="territory_manager")
    notifier = offline_notifier(db)
    envelope = envelope_of(granted(alice), actor=manager["user"]["id"])
    assert await notifier.apply(envelope) == 1
    assert await notifier.apply(envelope) == 0  # redelivered: the unique key holds
    me = await notes(auth_client, alice)
    assert me["unreadNotificationCount"] == 1
    [note] = me["notifications"]["nodes"]
    assert note["kind"] == "ROLE_GRANTED"
    assert note["read"] is False
    assert note["subject"] == {"id": ids.encode("Territory", "dk", "dk"), "__typename": "Territory"}
    manager_key = ids.decode(manager["user"]["id"]).key
    assert note["actor"] == {"id": ids.encode("Profile", "dk", manager_key)}
    assert await pushes_of(db, "dk", alice["user"]["id"]) == [ids.decode(note["id"]).key]


async def test_nobody_is_notified_of_their_own_action(
    auth_client: httpx.AsyncClient, db: Database
) -> None:
    alice = await account(auth_client, db, "dk")
    envelope = envelope_of(role_changed(alice), actor=alice["user"]["id"])
    assert await offline_notifier(db).apply(envelope) == 0
    assert (await notes(auth_client, alice))["notifications"]["nodes"] == []


async def test_a_category_switched_off_stores_nothing(
    auth_client: httpx.AsyncClient, db: Database
) -> None:
    alice = await account(auth_client, db, "dk")
    off = {"settings": [{"event": "COMMUNITY_MEMBERSHIP", "email": False, "push": False}]}
    ok(await call(auth_client, PREFS, {"i": off}, alice["accessToken"]))
    assert await offline_notifier(db).apply(envelope_of(role_changed(alice))) == 0
    me = await notes(auth_client, alice)
    assert me == {"unreadNotificationCount": 0, "notifications": {"nodes": []}}


async def test_email_only_stores_it_and_never_pushes(
    auth_client: httpx.AsyncClient, db: Database
) -> None:
    alice = await account(auth_client, db, "dk")
    email = {"settings": [{"event": "COMMUNITY_MEMBERSHIP", "email": True, "push": False}]}
    ok(await call(auth_client, PREFS, {"i": email}, alice["accessToken"]))
    clock = Clock(NOON)
    notifier = offline_notifier(db, clock)
    assert await notifier.apply(envelope_of(role_changed(alice))) == 1
    clock.now += timedelta(days=1)
    await notifier.sweep()
    assert await pushes_of(db, "dk", alice["user"]["id"]) == []
    assert len((await notes(auth_client, alice))["notifications"]["nodes"]) == 1


async def test_in_quiet_hours_it_is_stored_at_once_and_pushed_when_they_end(
    auth_client: httpx.AsyncClient, db: Database
) -> None:
    alice = await account(auth_client, db, "se")  # a territory on the second server
    quiet = {"quietHours": {"start": "11:00", "end": "13:00", "timeZone": "UTC"}}
    ok(await call(auth_client, PREFS, {"i": quiet}, alice["accessToken"]))
    clock = Clock(NOON)
    notifier = offline_notifier(db, clock)
    assert await notifier.apply(envelope_of(granted(alice))) == 1
    [note] = (await notes(auth_client, alice))["notifications"]["nodes"]
    user = alice["user"]["id"]
    assert await pushes_of(db, "se", user) == []
    clock.now = NOON + timedelta(minutes=59)
    await notifier.sweep()
    assert await pushes_of(db, "se", user) == []  # still quiet
    clock.now = NOON + timedelta(hours=1)
    await notifier.sweep()
    assert await pushes_of(db, "se", user) == [ids.decode(note["id"]).key]
    await notifier.sweep()
    assert len(await pushes_of(db, "se", user)) == 1  # handed over once


async def test_an_unknown_person_or_territory_gets_nothing(
    auth_client: httpx.AsyncClient, db: Database
) -> None:
    alice = await account(auth_client, db, "dk")
    notifier = offline_notifier(db)
    stranger = RoleGranted(
        territory_id="dk",
        user_id=user_key(ids.encode("User", "dk", "0190a000-0000-7000-8000-00000000dead")),
        user_territory=TerritoryRef("dk"),
        role=Role.MEMBER,
    )
    assert await notifier.apply(envelope_of(stranger)) == 0
    elsewhere = RoleGranted(
        territory_id="dk",
        user_id=user_key(alice["user"]["id"]),
        user_territory=TerritoryRef("fn_nowhere"),
        role=Role.MEMBER,
    )
    assert await notifier.apply(envelope_of(elsewhere)) == 0
