"""The existing mutations write their domain events (issue 11 item 3) in their own transaction:
each successful change exactly its outbox row (ids and enums only), a refused or no-op one none."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from db.engines import Database
from db.models import global_outbox, outbox
from domain.events import new_event_id
from graph import ids
from tests.authkit import (
    ASSIGN_ROLE,
    REVOKE_ROLE,
    account,
    call,
    codes,
    expire_invitation,
    invite,
    register,
    server_of,
)
from tests.communities.test_community_mutations import (
    ADD,
    CREATE,
    JOIN,
    LEAVE,
    REMOVE,
    SET_ROLE,
)

TERRITORIES = ["dk", "se"]  # main server and second server
UPDATE_PROFILE = """
mutation($i: UpdateProfileInput!) { updateProfile(input: $i) { profile { displayName } } }"""


class Outbox:
    """The outbox rows written since it was made: one territory's, or ``global``'s (None)."""

    def __init__(self, db: Database, territory: str | None) -> None:
        self.db = db
        self.territory = territory
        self.since = new_event_id()

    async def new(self) -> list[dict[str, Any]]:
        table = global_outbox if self.territory is None else outbox
        server = "main" if self.territory is None else server_of(self.territory)
        async with self.db.connect(server, self.territory) as conn:
            rows = await conn.execute(
                select(table.c.envelope).where(table.c.id > self.since).order_by(table.c.id)
            )
            found = [dict(r.envelope) for r in rows]
        self.since = new_event_id()
        return found

    async def one(self) -> dict[str, Any]:
        found = await self.new()
        assert len(found) == 1, found
        return found[0]


def ok(body: dict[str, Any]) -> dict[str, Any]:
    assert "errors" not in body, body
    data: dict[str, Any] = body["data"]
    return data


@pytest.fixture(params=TERRITORIES)
async def people(
    request: pytest.FixtureRequest, auth_client: httpx.AsyncClient, db: Database
) -> dict[str, Any]:
    territory = request.param
    return {
        "territory": territory,
        "manager": await account(auth_client, db, territory, role="territory_manager"),
        "alice": await account(auth_client, db, territory),
        "bob": await account(auth_client, db, territory),
    }


async def _community(client: httpx.AsyncClient, people: dict[str, Any], public: bool) -> str:
    slug = f"ev-{uuid.uuid4().hex[:8]}"
    body = await call(
        client,
        CREATE,
        {
            "i": {
                "territory": people["territory"],
                "slug": slug,
                "name": "Events",
                "visibility": "PUBLIC" if public else "INVITE_ONLY",
            }
        },
        people["manager"]["accessToken"],
    )
    community_id: str = ok(body)["createCommunity"]["community"]["id"]
    return community_id


async def test_registration_writes_account_registered(
    auth_client: httpx.AsyncClient, db: Database, people: dict[str, Any]
) -> None:
    territory = people["territory"]
    box = Outbox(db, territory)
    token = await invite(db, territory)
    body = await register(auth_client, token)
    user_id = ok(body)["register"]["id"]
    event = await box.one()
    assert (event["type"], event["territory"], event["actor"]) == (
        "account.registered",
        territory,
        None,
    )
    assert event["subjects"] == {"user": user_id}
    assert event["payload"] == {"user_id": ids.decode(user_id).key}

    refused = await invite(db, territory)
    await expire_invitation(db, territory, refused)
    assert codes(await register(auth_client, refused)) == ["INVITATION_EXPIRED"]
    assert await box.new() == []


async def test_community_created_and_refused(
    auth_client: httpx.AsyncClient, db: Database, people: dict[str, Any]
) -> None:
    box = Outbox(db, people["territory"])
    community = await _community(auth_client, people, public=True)
    event = await box.one()
    assert event["type"] == "community.created"
    assert event["subjects"] == {"community": community}
    assert event["actor"] == people["manager"]["user"]["id"]
    variables = {"i": {"territory": people["territory"], "slug": "nope-x", "name": "No"}}
    body = await call(auth_client, CREATE, variables, people["alice"]["accessToken"])
    assert codes(body) == ["FORBIDDEN"]
    assert await box.new() == []


async def test_join_and_leave(
    auth_client: httpx.AsyncClient, db: Database, people: dict[str, Any]
) -> None:
    community = await _community(auth_client, people, public=True)
    alice = people["alice"]
    box = Outbox(db, people["territory"])
    ok(await call(auth_client, JOIN, {"id": community}, alice["accessToken"]))
    joined = await box.one()
    assert joined["type"] == "community.member_joined"
    assert joined["subjects"] == {"community": community, "user": alice["user"]["id"]}
    assert joined["payload"]["role"] == "member"
    assert joined["actor"] == alice["user"]["id"]
    ok(await call(auth_client, JOIN, {"id": community}, alice["accessToken"]))  # already in
    assert await box.new() == []

    ok(await call(auth_client, LEAVE, {"id": community}, alice["accessToken"]))
    left = await box.one()
    assert left["type"] == "community.member_left"
    assert left["payload"]["reason"] == "left"
    ok(await call(auth_client, LEAVE, {"id": community}, alice["accessToken"]))  # not a member
    assert await box.new() == []


async def test_join_refused_writes_nothing(
    auth_client: httpx.AsyncClient, db: Database, people: dict[str, Any]
) -> None:
    community = await _community(auth_client, people, public=False)
    box = Outbox(db, people["territory"])
    body = await call(auth_client, JOIN, {"id": community}, people["alice"]["accessToken"])
    assert codes(body) == ["NOT_FOUND"]
    assert await box.new() == []


async def test_add_role_change_and_remove(
    auth_client: httpx.AsyncClient, db: Database, people: dict[str, Any]
) -> None:
    community = await _community(auth_client, people, public=False)
    manager, bob = people["manager"]["accessToken"], people["bob"]
    bob_id = bob["user"]["id"]
    box = Outbox(db, people["territory"])
    refused = await call(auth_client, ADD, {"c": community, "u": bob_id}, bob["accessToken"])
    assert codes(refused) == ["NOT_FOUND"]  # bob cannot see the invite-only community
    assert await box.new() == []

    ok(await call(auth_client, ADD, {"c": community, "u": bob_id, "r": "MODERATOR"}, manager))
    added = await box.one()
    assert added["type"] == "community.member_joined"
    assert added["payload"]["role"] == "moderator"

    ok(await call(auth_client, SET_ROLE, {"c": community, "u": bob_id, "r": "ADMIN"}, manager))
    changed = await box.one()
    assert changed["type"] == "community.member_role_changed"
    assert (changed["payload"]["role"], changed["payload"]["previous_role"]) == (
        "admin",
        "moderator",
    )
    ok(await call(auth_client, SET_ROLE, {"c": community, "u": bob_id, "r": "ADMIN"}, manager))
    assert await box.new() == []  # no change, no event

    ok(await call(auth_client, REMOVE, {"c": community, "u": bob_id}, manager))
    removed = await box.one()
    assert removed["type"] == "community.member_left"
    assert removed["payload"]["reason"] == "removed"
    assert removed["subjects"]["user"] == bob_id


async def test_last_admin_cannot_leave_and_writes_nothing(
    auth_client: httpx.AsyncClient, db: Database, people: dict[str, Any]
) -> None:
    community = await _community(auth_client, people, public=True)
    box = Outbox(db, people["territory"])
    body = await call(auth_client, LEAVE, {"id": community}, people["manager"]["accessToken"])
    assert codes(body) == ["BAD_USER_INPUT"]
    assert await box.new() == []


async def test_role_grants_write_to_the_global_outbox(
    auth_client: httpx.AsyncClient, db: Database, people: dict[str, Any]
) -> None:
    territory = people["territory"]
    manager, alice = people["manager"]["accessToken"], people["alice"]
    grant = {"userId": alice["user"]["id"], "role": "MODERATOR", "territory": territory}
    box = Outbox(db, None)
    assert codes(await call(auth_client, ASSIGN_ROLE, {"i": grant}, alice["accessToken"])) == [
        "FORBIDDEN"
    ]
    assert await box.new() == []

    ok(await call(auth_client, ASSIGN_ROLE, {"i": grant}, manager))
    granted = await box.one()
    assert (granted["type"], granted["territory"]) == ("role.granted", territory)
    assert granted["payload"] == {
        "user_id": ids.decode(alice["user"]["id"]).key,
        "user_territory": territory,
        "role": "moderator",
    }
    ok(await call(auth_client, ASSIGN_ROLE, {"i": grant}, manager))  # already held
    assert await box.new() == []

    ok(await call(auth_client, REVOKE_ROLE, {"i": grant}, manager))
    assert (await box.one())["type"] == "role.revoked"
    ok(await call(auth_client, REVOKE_ROLE, {"i": grant}, manager))  # not held
    assert await box.new() == []


async def test_profile_updated_names_fields_never_values(
    auth_client: httpx.AsyncClient, db: Database, people: dict[str, Any]
) -> None:
    alice = people["alice"]
    box = Outbox(db, people["territory"])
    variables = {"i": {"displayName": "Secret Name", "bio": "Private words"}}
    ok(await call(auth_client, UPDATE_PROFILE, variables, alice["accessToken"]))
    event = await box.one()
    assert event["type"] == "profile.updated"
    assert sorted(event["payload"]["fields"]) == ["bio", "display_name"]
    assert "Secret" not in str(event)
    assert "Private" not in str(event)

    refused = await call(
        auth_client, UPDATE_PROFILE, {"i": {"displayName": ""}}, alice["accessToken"]
    )
    assert codes(refused) == ["BAD_USER_INPUT"]
    assert await box.new() == []
