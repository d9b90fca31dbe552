"""Community mutations over GraphQL with real tokens, on both database servers: who may, the
payloads, the codes and `extensions.field` of each refusal, and what is audited."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from db.engines import Database
from db.models import audit_log
from graph import ids
from tests.authkit import account, call, codes

CREATE = """
mutation($i: CreateCommunityInput!) {
  createCommunity(input: $i) {
    community { id slug name description visibility viewerRole territory { code } }
  }
}"""
JOIN = """
mutation($id: ID!) {
  joinCommunity(input: {communityId: $id}) {
    membership { role community { slug viewerRole } } joined
  }
}"""
LEAVE = """
mutation($id: ID!) {
  leaveCommunity(input: {communityId: $id}) { community { slug viewerRole } wasMember }
}"""
ADD = """
mutation($c: ID!, $u: ID!, $r: CommunityRole) {
  addCommunityMember(input: {communityId: $c, userId: $u, role: $r}) {
    community { slug } member { role userId profile { displayName } } added
  }
}"""
REMOVE = """
mutation($c: ID!, $u: ID!) {
  removeCommunityMember(input: {communityId: $c, userId: $u}) {
    community { slug } removedUserId wasMember
  }
}"""
SET_ROLE = """
mutation($c: ID!, $u: ID!, $r: CommunityRole!) {
  setCommunityMemberRole(input: {communityId: $c, userId: $u, role: $r}) {
    community { slug } member { role userId } previousRole
  }
}"""

TERRITORIES = ["dk", "se"]  # main server and second server


def ok(body: dict[str, Any]) -> dict[str, Any]:
    assert "errors" not in body, body
    data: dict[str, Any] = body["data"]
    return data


def fields(body: dict[str, Any]) -> list[tuple[str, str | None]]:
    """(code, extensions.field) of each error."""
    return [(e["extensions"]["code"], e["extensions"].get("field")) for e in body.get("errors", [])]


@pytest.fixture(scope="module", params=TERRITORIES)
async def people(
    request: pytest.FixtureRequest, auth_client: httpx.AsyncClient, db: Database
) -> dict[str, Any]:
    """A territory manager, two accounts of the territory and one of another territory."""
    territory = request.param
    return {
        "territory": territory,
        "manager": await account(auth_client, db, territory, role="territory_manager"),
        "alice": await account(auth_client, db, territory),
        "bob": await account(auth_client, db, territory),
        "outsider": await account(auth_client, db, "no"),
    }


def token(people: dict[str, Any], who: str) -> str:
    value: str = people[who]["accessToken"]
    return value


def user_id(people: dict[str, Any], who: str) -> str:
    value: str = people[who]["user"]["id"]
    return value


async def create(
    client: httpx.AsyncClient, people: dict[str, Any], visibility: str = "PUBLIC"
) -> dict[str, Any]:
    """A fresh community made by the manager (so tests never share one)."""
    body = {
        "territory": people["territory"],
        "slug": f"garden-{uuid.uuid4().hex[:8]}",
        "name": "Garden",
        "visibility": visibility,
    }
    created = ok(await call(client, CREATE, {"i": body}, token(people, "manager")))
    community: dict[str, Any] = created["createCommunity"]["community"]
    return community


async def audited(db: Database, community_id: str) -> list[tuple[str, dict[str, Any]]]:
    """The audit entries naming this community, oldest first."""
    async with db.connect("main") as conn:
        rows = await conn.execute(
            select(audit_log.c.action, audit_log.c.details)
            .where(audit_log.c.target == ids.decode(community_id).key)
            .order_by(audit_log.c.id)
        )
        return [(str(a), dict(d)) for a, d in rows]


def key(people: dict[str, Any], who: str) -> str:
    return ids.decode(user_id(people, who)).key


# --- createCommunity


async def test_only_territory_managers_create(
    auth_client: httpx.AsyncClient, people: dict[str, Any]
) -> None:
    body = {"territory": people["territory"], "slug": "not-mine", "name": "Garden"}
    refused = await call(auth_client, CREATE, {"i": body}, token(people, "alice"))
    assert codes(refused) == ["FORBIDDEN"]


@pytest.mark.parametrize(
    ("bad", "field"),
    [
        ({"slug": "Bad Slug"}, "slug"),
        ({"slug": "a" * 65}, "slug"),
        ({"name": "  "}, "name"),
        ({"name": "x" * 121}, "name"),
        ({"description": "x" * 2001}, "description"),
        ({"description": "a\x00b"}, "description"),
        ({"territory": "DK"}, "territory"),
    ],
)
async def test_create_names_the_bad_field(
    auth_client: httpx.AsyncClient, dk_manager: str, bad: dict[str, str], field: str
) -> None:
    body = {"territory": "dk", "slug": "fine-slug", "name": "Garden", **bad}
    refused = await call(auth_client, CREATE, {"i": body}, dk_manager)
    assert fields(refused) == [("BAD_USER_INPUT", field)]


@pytest.fixture(scope="module")
async def dk_manager(auth_client: httpx.AsyncClient, db: Database) -> str:
    """The access token of a manager of `dk`."""
    manager = await account(auth_client, db, "dk", role="territory_manager")
    value: str = manager["accessToken"]
    return value


async def test_create_payload_makes_the_creator_admin_and_is_audited(
    auth_client: httpx.AsyncClient, db: Database, people: dict[str, Any]
) -> None:
    slug = f"garden-{uuid.uuid4().hex[:8]}"
    body = {
        "territory": people["territory"],
        "slug": slug,
        "name": "  Community\n Garden ",
        "description": "Seeds\nand soil",
    }
    created = ok(await call(auth_client, CREATE, {"i": body}, token(people, "manager")))
    community = created["createCommunity"]["community"]
    assert ids.decode(community["id"]).type_name == "Community"
    assert {k: v for k, v in community.items() if k != "id"} == {
        "slug": slug,
        "name": "Community Garden",
        "description": "Seeds\nand soil",
        "visibility": "PUBLIC",
        "viewerRole": "ADMIN",
        "territory": {"code": people["territory"]},
    }
    assert await audited(db, community["id"]) == [("community.created", {"public": True})]


async def test_a_taken_slug_is_already_exists_on_the_slug(
    auth_client: httpx.AsyncClient, people: dict[str, Any]
) -> None:
    community = await create(auth_client, people)
    body = {"territory": people["territory"], "slug": community["slug"], "name": "Again"}
    refused = await call(auth_client, CREATE, {"i": body}, token(people, "manager"))
    assert fields(refused) == [("ALREADY_EXISTS", "slug")]


# --- joinCommunity


async def test_join_payload_and_joining_twice(
    auth_client: httpx.AsyncClient, people: dict[str, Any]
) -> None:
    community = await create(auth_client, people)
    first = ok(await call(auth_client, JOIN, {"id": community["id"]}, token(people, "alice")))
    expected = {"role": "MEMBER", "community": {"slug": community["slug"], "viewerRole": "MEMBER"}}
    assert first["joinCommunity"] == {"membership": expected, "joined": True}
    again = ok(await call(auth_client, JOIN, {"id": community["id"]}, token(people, "alice")))
    assert again["joinCommunity"] == {"membership": expected, "joined": False}


async def test_join_is_for_accounts_of_the_territory(
    auth_client: httpx.AsyncClient, people: dict[str, Any]
) -> None:
    community = await create(auth_client, people)
    refused = await call(auth_client, JOIN, {"id": community["id"]}, token(people, "outsider"))
    assert codes(refused) == ["FORBIDDEN"]


async def test_invite_only_communities_are_not_joined_directly(
    auth_client: httpx.AsyncClient, people: dict[str, Any]
) -> None:
    """Invisible to a non-member (NOT_FOUND); a territory manager, who sees it without being a
    member, is told why (FORBIDDEN)."""
    closed = await create(auth_client, people, "INVITE_ONLY")
    hidden = await call(auth_client, JOIN, {"id": closed["id"]}, token(people, "alice"))
    assert fields(hidden) == [("NOT_FOUND", "communityId")]
    # Another admin, so the creating manager may leave and stay a manager of the territory only.
    admin = {"c": closed["id"], "u": user_id(people, "alice"), "r": "ADMIN"}
    ok(await call(auth_client, ADD, admin, token(people, "manager")))
    ok(await call(auth_client, LEAVE, {"id": closed["id"]}, token(people, "manager")))
    refused = await call(auth_client, JOIN, {"id": closed["id"]}, token(people, "manager"))
    assert codes(refused) == ["FORBIDDEN"]


# --- addCommunityMember


async def test_members_cannot_add_but_admins_can(
    auth_client: httpx.AsyncClient, db: Database, people: dict[str, Any]
) -> None:
    community = await create(auth_client, people)
    ok(await call(auth_client, JOIN, {"id": community["id"]}, token(people, "alice")))
    variables = {"c": community["id"], "u": user_id(people, "bob")}
    assert codes(await call(auth_client, ADD, variables, token(people, "alice"))) == ["FORBIDDEN"]
    added = ok(await call(auth_client, ADD, variables, token(people, "manager")))
    assert added["addCommunityMember"] == {
        "community": {"slug": community["slug"]},
        "member": {
            "role": "MEMBER",
            "userId": user_id(people, "bob"),
            "profile": {"displayName": people["bob"]["user"]["username"]},
        },
        "added": True,
    }
    audit = await audited(db, community["id"])
    assert audit[-1] == ("community.member_added", {"user": key(people, "bob"), "role": "member"})


async def test_adding_a_member_again_keeps_their_role(
    auth_client: httpx.AsyncClient, db: Database, people: dict[str, Any]
) -> None:
    community = await create(auth_client, people, "INVITE_ONLY")
    variables = {"c": community["id"], "u": user_id(people, "bob"), "r": "MODERATOR"}
    ok(await call(auth_client, ADD, variables, token(people, "manager")))
    again = ok(await call(auth_client, ADD, {**variables, "r": "ADMIN"}, token(people, "manager")))
    assert again["addCommunityMember"]["member"]["role"] == "MODERATOR"
    assert again["addCommunityMember"]["added"] is False
    actions = [a for a, _ in await audited(db, community["id"])]
    assert actions == ["community.created", "community.member_added"]


async def test_add_takes_accounts_of_the_territory_only(
    auth_client: httpx.AsyncClient, people: dict[str, Any]
) -> None:
    community = await create(auth_client, people)
    variables = {"c": community["id"], "u": user_id(people, "outsider")}
    refused = await call(auth_client, ADD, variables, token(people, "manager"))
    assert fields(refused) == [("BAD_USER_INPUT", "userId")]


async def test_add_of_a_missing_person_is_not_found_on_the_user(
    auth_client: httpx.AsyncClient, people: dict[str, Any]
) -> None:
    community = await create(auth_client, people)
    nobody = ids.encode("User", people["territory"], str(uuid.uuid4()))
    refused = await call(
        auth_client, ADD, {"c": community["id"], "u": nobody}, token(people, "manager")
    )
    assert fields(refused) == [("NOT_FOUND", "userId")]


# --- setCommunityMemberRole


async def test_set_role_payload_and_audit(
    auth_client: httpx.AsyncClient, db: Database, people: dict[str, Any]
) -> None:
    community = await create(auth_client, people)
    ok(await call(auth_client, JOIN, {"id": community["id"]}, token(people, "alice")))
    variables = {"c": community["id"], "u": user_id(people, "alice"), "r": "ADMIN"}
    promoted = ok(await call(auth_client, SET_ROLE, variables, token(people, "manager")))
    assert promoted["setCommunityMemberRole"] == {
        "community": {"slug": community["slug"]},
        "member": {"role": "ADMIN", "userId": user_id(people, "alice")},
        "previousRole": "MEMBER",
    }
    audit = await audited(db, community["id"])
    assert audit[-1] == (
        "community.role_changed",
        {"user": key(people, "alice"), "from": "member", "to": "admin"},
    )
    assert all("@" not in str(details) for _, details in audit)


async def test_setting_the_same_role_changes_nothing(
    auth_client: httpx.AsyncClient, db: Database, people: dict[str, Any]
) -> None:
    community = await create(auth_client, people)
    ok(await call(auth_client, JOIN, {"id": community["id"]}, token(people, "alice")))
    variables = {"c": community["id"], "u": user_id(people, "alice"), "r": "MEMBER"}
    same = ok(await call(auth_client, SET_ROLE, variables, token(people, "manager")))
    assert same["setCommunityMemberRole"]["previousRole"] == "MEMBER"
    assert [a for a, _ in await audited(db, community["id"])] == ["community.created"]


async def test_set_role_of_a_non_member_is_not_found(
    auth_client: httpx.AsyncClient, people: dict[str, Any]
) -> None:
    community = await create(auth_client, people)
    variables = {"c": community["id"], "u": user_id(people, "bob"), "r": "ADMIN"}
    refused = await call(auth_client, SET_ROLE, variables, token(people, "manager"))
    assert fields(refused) == [("NOT_FOUND", "userId")]


# --- the last-admin rule


async def _alice_sole_admin(client: httpx.AsyncClient, people: dict[str, Any]) -> dict[str, Any]:
    """A community whose only admin is alice: she was promoted, then demoted its creator."""
    community = await create(client, people)
    ok(await call(client, JOIN, {"id": community["id"]}, token(people, "alice")))
    promote = {"c": community["id"], "u": user_id(people, "alice"), "r": "ADMIN"}
    ok(await call(client, SET_ROLE, promote, token(people, "manager")))
    demote = {"c": community["id"], "u": user_id(people, "manager"), "r": "MODERATOR"}
    ok(await call(client, SET_ROLE, demote, token(people, "alice")))
    return community


async def test_the_last_admin_cannot_leave(
    auth_client: httpx.AsyncClient, people: dict[str, Any]
) -> None:
    community = await _alice_sole_admin(auth_client, people)
    refused = await call(auth_client, LEAVE, {"id": community["id"]}, token(people, "alice"))
    assert fields(refused) == [("BAD_USER_INPUT", "communityId")]


async def test_the_last_admin_cannot_be_demoted(
    auth_client: httpx.AsyncClient, people: dict[str, Any]
) -> None:
    community = await _alice_sole_admin(auth_client, people)
    variables = {"c": community["id"], "u": user_id(people, "alice"), "r": "MEMBER"}
    refused = await call(auth_client, SET_ROLE, variables, token(people, "alice"))
    assert fields(refused) == [("BAD_USER_INPUT", "role")]


async def test_the_last_admin_cannot_be_removed(
    auth_client: httpx.AsyncClient, people: dict[str, Any]
) -> None:
    community = await _alice_sole_admin(auth_client, people)
    variables = {"c": community["id"], "u": user_id(people, "alice")}
    refused = await call(auth_client, REMOVE, variables, token(people, "manager"))
    assert fields(refused) == [("BAD_USER_INPUT", "userId")]


# --- leaveCommunity


async def test_leave_payload_and_leaving_twice(
    auth_client: httpx.AsyncClient, people: dict[str, Any]
) -> None:
    community = await create(auth_client, people)
    ok(await call(auth_client, JOIN, {"id": community["id"]}, token(people, "alice")))
    left = ok(await call(auth_client, LEAVE, {"id": community["id"]}, token(people, "alice")))
    after = {"slug": community["slug"], "viewerRole": None}
    assert left["leaveCommunity"] == {"community": after, "wasMember": True}
    again = ok(await call(auth_client, LEAVE, {"id": community["id"]}, token(people, "alice")))
    assert again["leaveCommunity"] == {"community": after, "wasMember": False}


async def test_leaving_an_invite_only_community_hides_it(
    auth_client: httpx.AsyncClient, people: dict[str, Any]
) -> None:
    closed = await create(auth_client, people, "INVITE_ONLY")
    add = {"c": closed["id"], "u": user_id(people, "bob")}
    ok(await call(auth_client, ADD, add, token(people, "manager")))
    left = ok(await call(auth_client, LEAVE, {"id": closed["id"]}, token(people, "bob")))
    assert left["leaveCommunity"] == {"community": None, "wasMember": True}


async def test_leave_does_not_reveal_invite_only_communities(
    auth_client: httpx.AsyncClient, people: dict[str, Any]
) -> None:
    """A non-member got `false` for an invite-only community and NOT_FOUND for a missing one."""
    closed = await create(auth_client, people, "INVITE_ONLY")
    missing = ids.encode("Community", people["territory"], str(uuid.uuid4()))
    for community in (closed["id"], missing):
        refused = await call(auth_client, LEAVE, {"id": community}, token(people, "alice"))
        assert fields(refused) == [("NOT_FOUND", "communityId")]


# --- removeCommunityMember


async def test_remove_payload_and_audit(
    auth_client: httpx.AsyncClient, db: Database, people: dict[str, Any]
) -> None:
    community = await create(auth_client, people)
    ok(await call(auth_client, JOIN, {"id": community["id"]}, token(people, "bob")))
    variables = {"c": community["id"], "u": user_id(people, "bob")}
    removed = ok(await call(auth_client, REMOVE, variables, token(people, "manager")))
    expected = {
        "community": {"slug": community["slug"]},
        "removedUserId": user_id(people, "bob"),
        "wasMember": True,
    }
    assert removed["removeCommunityMember"] == expected
    again = ok(await call(auth_client, REMOVE, variables, token(people, "manager")))
    assert again["removeCommunityMember"] == {**expected, "wasMember": False}
    audit = await audited(db, community["id"])
    assert audit[1:] == [
        ("community.member_removed", {"user": key(people, "bob"), "role": "member"})
    ]


async def test_members_cannot_remove(
    auth_client: httpx.AsyncClient, people: dict[str, Any]
) -> None:
    community = await create(auth_client, people)
    for who in ("alice", "bob"):
        ok(await call(auth_client, JOIN, {"id": community["id"]}, token(people, who)))
    variables = {"c": community["id"], "u": user_id(people, "bob")}
    assert codes(await call(auth_client, REMOVE, variables, token(people, "alice"))) == [
        "FORBIDDEN"
    ]


# --- every membership mutation: malformed ids, invite-only communities


@pytest.mark.parametrize(
    ("mutation", "variables"),
    [
        (JOIN, {"id": "not-an-id"}),
        (LEAVE, {"id": "not-an-id"}),
        (ADD, {"c": "not-an-id", "u": "USER"}),
        (REMOVE, {"c": "not-an-id", "u": "USER"}),
        (SET_ROLE, {"c": "not-an-id", "u": "USER", "r": "ADMIN"}),
        (JOIN, {"id": "USER"}),  # a well-formed id of another type
    ],
)
async def test_a_malformed_community_id_names_the_field(
    auth_client: httpx.AsyncClient, dk_manager: str, mutation: str, variables: dict[str, str]
) -> None:
    me = ids.encode("User", "dk", str(uuid.uuid4()))
    variables = {k: me if v == "USER" else v for k, v in variables.items()}
    assert fields(await call(auth_client, mutation, variables, dk_manager)) == [
        ("BAD_USER_INPUT", "communityId")
    ]


@pytest.mark.parametrize("mutation", [ADD, REMOVE, SET_ROLE])
async def test_a_malformed_user_id_names_the_field(
    auth_client: httpx.AsyncClient, people: dict[str, Any], mutation: str
) -> None:
    community = await create(auth_client, people)
    variables = {"c": community["id"], "u": "not-an-id", "r": "ADMIN"}
    assert fields(await call(auth_client, mutation, variables, token(people, "manager"))) == [
        ("BAD_USER_INPUT", "userId")
    ]


async def test_invite_only_communities_do_not_reveal_themselves(
    auth_client: httpx.AsyncClient, db: Database
) -> None:
    """Non-members got FORBIDDEN for an invite-only community, NOT_FOUND for a missing one."""
    manager = await account(auth_client, db, "dk", role="territory_manager")
    alice = await account(auth_client, db, "dk")
    bob = await account(auth_client, db, "dk")
    slug = f"closed-{uuid.uuid4().hex[:8]}"
    closed = await call(
        auth_client,
        CREATE,
        {"i": {"territory": "dk", "slug": slug, "name": "Closed", "visibility": "INVITE_ONLY"}},
        manager["accessToken"],
    )
    closed_id = closed["data"]["createCommunity"]["community"]["id"]
    missing_id = ids.encode("Community", "dk", str(uuid.uuid4()))
    bob_id = bob["user"]["id"]
    for community in (closed_id, missing_id):
        t = alice["accessToken"]
        assert codes(await call(auth_client, JOIN, {"id": community}, t)) == ["NOT_FOUND"]
        for mutation in (ADD, REMOVE, SET_ROLE):
            variables = {"c": community, "u": bob_id, "r": "ADMIN"}
            assert codes(await call(auth_client, mutation, variables, t)) == ["NOT_FOUND"]
    # A member who may not manage still learns it exists (they see it in their communities).
    added = await call(
        auth_client, ADD, {"c": closed_id, "u": alice["user"]["id"]}, manager["accessToken"]
    )
    assert "errors" not in added, added
    t = alice["accessToken"]
    assert codes(await call(auth_client, ADD, {"c": closed_id, "u": bob_id}, t)) == ["FORBIDDEN"]


async def test_me_lists_invite_only_memberships_too(
    auth_client: httpx.AsyncClient, people: dict[str, Any]
) -> None:
    public = await create(auth_client, people)
    closed = await create(auth_client, people, "INVITE_ONLY")
    ok(await call(auth_client, JOIN, {"id": public["id"]}, token(people, "bob")))
    ok(
        await call(
            auth_client,
            ADD,
            {"c": closed["id"], "u": user_id(people, "bob"), "r": "MODERATOR"},
            token(people, "manager"),
        )
    )
    mine = ok(
        await call(
            auth_client,
            "{ me { communities { role community { slug visibility } } } }",
            token=token(people, "bob"),
        )
    )["me"]["communities"]
    assert mine[-2:] == [
        {"role": "MEMBER", "community": {"slug": public["slug"], "visibility": "PUBLIC"}},
        {"role": "MODERATOR", "community": {"slug": closed["slug"], "visibility": "INVITE_ONLY"}},
    ]
