"""markNotificationsRead and unreadNotificationCount; notifications are their owner's alone."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from db.engines import Database
from tests.authkit import account, call, codes
from tests.notifications.conftest import envelope_of, offline_notifier
from tests.notifications.test_notification_store import granted, notes, ok

MARK = """
mutation($i: MarkNotificationsReadInput!) {
  markNotificationsRead(input: $i) {
    markedCount unreadNotificationCount notifications { id read }
  }
}"""


async def notified(db: Database, person: dict[str, Any], count: int) -> None:
    notifier = offline_notifier(db)
    for _ in range(count):
        assert await notifier.apply(envelope_of(granted(person))) == 1


async def note_ids(client: httpx.AsyncClient, person: dict[str, Any]) -> list[str]:
    return [n["id"] for n in (await notes(client, person))["notifications"]["nodes"]]


async def test_marking_some_read_lowers_the_count_and_unread_only_hides_them(
    auth_client: httpx.AsyncClient, db: Database
) -> None:
    alice = await account(auth_client, db, "dk")
    await notified(db, alice, 3)
    newest, middle, oldest = await note_ids(auth_client, alice)
    token = alice["accessToken"]
    body = ok(await call(auth_client, MARK, {"i": {"ids": [newest, oldest]}}, token))
    assert body["markNotificationsRead"] == {
        "markedCount": 2,
        "unreadNotificationCount": 1,
        "notifications": [{"id": newest, "read": True}, {"id": oldest, "read": True}],
    }
    again = ok(await call(auth_client, MARK, {"i": {"ids": [newest]}}, token))
    assert again["markNotificationsRead"]["markedCount"] == 0  # read already
    unread = ok(await call(auth_client, NOTES_UNREAD, token=token))["me"]["notifications"]
    assert [n["id"] for n in unread["nodes"]] == [middle]


NOTES_UNREAD = "{ me { notifications(unreadOnly: true) { nodes { id } } } }"


async def test_marking_all_read(auth_client: httpx.AsyncClient, db: Database) -> None:
    alice = await account(auth_client, db, "se")
    await notified(db, alice, 2)
    body = ok(await call(auth_client, MARK, {"i": {"all": True}}, alice["accessToken"]))
    assert body["markNotificationsRead"] == {
        "markedCount": 2,
        "unreadNotificationCount": 0,
        "notifications": [],
    }
    assert (await notes(auth_client, alice))["unreadNotificationCount"] == 0


async def test_another_persons_notification_is_not_found_and_nothing_is_marked(
    auth_client: httpx.AsyncClient, db: Database
) -> None:
    alice = await account(auth_client, db, "dk")
    bob = await account(auth_client, db, "dk")
    await notified(db, alice, 1)
    await notified(db, bob, 1)
    [mine] = await note_ids(auth_client, alice)
    [theirs] = await note_ids(auth_client, bob)
    body = await call(auth_client, MARK, {"i": {"ids": [mine, theirs]}}, alice["accessToken"])
    assert codes(body) == ["NOT_FOUND"]
    assert body["errors"][0]["extensions"]["field"] == "ids"
    assert (await notes(auth_client, alice))["unreadNotificationCount"] == 1
    assert (await notes(auth_client, bob))["unreadNotificationCount"] == 1
    node = "query($id: ID!) { node(id: $id) { id } }"
    assert codes(await call(auth_client, node, {"id": theirs}, alice["accessToken"])) == [
        "NOT_FOUND"
    ]
    own = ok(await call(auth_client, node, {"id": mine}, alice["accessToken"]))
    assert own == {"node": {"id": mine}}


@pytest.mark.parametrize(
    "given",
    [{}, {"ids": []}, {"ids": ["x"], "all": True}, {"ids": ["not an id"]}],
    ids=["neither", "empty", "both", "malformed"],
)
async def test_mark_needs_ids_or_all(
    auth_client: httpx.AsyncClient, db: Database, given: dict[str, Any]
) -> None:
    alice = await account(auth_client, db, "dk")
    body = await call(auth_client, MARK, {"i": given}, alice["accessToken"])
    assert codes(body) == ["BAD_USER_INPUT"]
    assert body["errors"][0]["extensions"]["field"] == "ids"


async def test_mark_needs_a_login(auth_client: httpx.AsyncClient) -> None:
    body = await call(auth_client, MARK, {"i": {"all": True}})
    assert codes(body) == ["UNAUTHENTICATED"]


async def test_a_manager_reading_an_account_does_not_see_its_notifications(
    auth_client: httpx.AsyncClient, db: Database
) -> None:
    alice = await account(auth_client, db, "dk")
    manager = await account(auth_client, db, "dk", role="territory_manager")
    await notified(db, alice, 1)
    query = """query($id: ID!) { node(id: $id) { ... on User {
      username notifications { nodes { id } } unreadNotificationCount } } }"""
    body = ok(await call(auth_client, query, {"id": alice["user"]["id"]}, manager["accessToken"]))
    assert body["node"]["username"]  # the account is visible to them
    assert body["node"]["notifications"] is None
    assert body["node"]["unreadNotificationCount"] is None
