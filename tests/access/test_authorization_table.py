"""Who sees which person, by role and territory, on every path that returns people or private data.

One table, one test: each row is a viewer and a target person, each column a path. A new area that
returns people adds a column (a query in ``observe`` and its expected value in each row). Queries
run here, and mutations only where they are refused (they change nothing); the cast is set up
through tests/authkit.py and rows written directly, except each person's credential, which they
export themselves (``exportBadgeCredential``).

Policy (graph/types/accounts.py ``visible``, domain/roles.py, domain/privacy.py):
* an account (``User``: username, email, roles) is seen by its owner and by a territory manager,
  moderator or global admin of ITS territory; anyone else gets NOT_FOUND (null in ``nodes``);
* a profile follows its owner's privacy settings, here the default preset ``territory``: accounts
  of the owner's territory see it; roles do not widen it, so a global admin does not;
* ``Community.members`` lists to accounts of the community's territory and to global admins;
  each member's profile is still their privacy's to show;
* ``invitations(territory:)`` answers the territory's managers and global admins;
* ``verifyCredential`` answers anyone, and says nothing of the person beyond what the credential
  itself carries (a salted hash).
* ``exportBadgeCredential`` is the holder's alone: whoever sees the award (their territory's
  managers and moderators, global admins) is FORBIDDEN, anyone else NOT_FOUND.
* notifications (``User.notifications``, ``node(id:)`` of a ``Notification``) answer their owner
  only: no role reads them.
* a ``File`` used as an avatar is seen by whoever the profile shows its avatar (here: as the
  profile), through ``node`` and ``GET /files`` alike.
* a TERRITORY forum (and its topics, with their authors) shows to accounts of its territory and
  to global admins; to anyone else it is NOT_FOUND, through ``node``, ``nodes`` and the
  ``forums`` list alike.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from sqlalchemy import insert, update

from db.engines import Database
from db.models import (
    communities,
    community_memberships,
    file_references,
    files,
    forum_topics,
    forums,
    profiles,
)
from graph import ids
from tests.authkit import account, award_badge, call, codes, define_badge, server_of
from tests.notifications.conftest import envelope_of, offline_notifier
from tests.notifications.test_notification_store import granted

VIEWERS = ("anonymous", "dk_member", "dk_moderator", "dk_manager", "global_admin", "se_member")
TARGETS = ("dk", "se", "no")  # a person of dk (main server), se (second server), no (main)

# user:        seen = node(id:) and nodes(ids:) return the User, with its username, email and roles
#              -    = node(id:) is NOT_FOUND and nodes(ids:) is [null]
# profile:     seen = node(id:), nodes(ids:) and profile(id:) return the Profile with its name
#              -    = node(id:) is NOT_FOUND, nodes(ids:) is [null], profile(id:) is null
# members:     Community.members of a public community of the target's territory whose only
#              member is the target: seen (listed, profile shown), hidden (listed, profile null),
#              null (no list)
# invitations: invitations(territory: <the target's territory>): list, or the error code
# vc:          verifyCredential of the credential the target exported of their award: valid (and
#              naming neither the person's id nor username)
# notes:       seen = the target's notification by node(id:), or their notifications through
#              their User; -    = node(id:) is NOT_FOUND and User.notifications null (or the
#              User hidden): notifications are their owner's alone, whatever the role
# awards:      seen = node(id:) returns the target's BadgeAward (a badge of their territory) and
#                     exportBadgeCredential of it is FORBIDDEN (the holder's alone)
#              -    = node(id:) and exportBadgeCredential are NOT_FOUND (UNAUTHENTICATED when
#                     anonymous): awards are seen by whoever sees the account
# file:        seen = node(id:) returns the target's avatar File and GET /files serves it
#              -    = node(id:) is NOT_FOUND and GET /files answers 404
# forum:       a public TERRITORY forum of the target's territory with a topic the target
#              opened: seen (node, nodes and the forums list show it, the topic its author),
#              - (NOT_FOUND, [null], not listed)
TABLE = """
viewer        target  user  profile  members  invitations      vc     notes  awards  file  forum
anonymous     dk      -     -        null     UNAUTHENTICATED  valid  -      -       -     -
anonymous     se      -     -        null     UNAUTHENTICATED  valid  -      -       -     -
anonymous     no      -     -        null     UNAUTHENTICATED  valid  -      -       -     -
dk_member     dk      -     seen     seen     FORBIDDEN        valid  -      -       seen  seen
dk_member     se      -     -        null     FORBIDDEN        valid  -      -       -     -
dk_member     no      -     -        null     FORBIDDEN        valid  -      -       -     -
dk_moderator  dk      seen  seen     seen     FORBIDDEN        valid  -      seen    seen  seen
dk_moderator  se      -     -        null     FORBIDDEN        valid  -      -       -     -
dk_moderator  no      -     -        null     FORBIDDEN        valid  -      -       -     -
dk_manager    dk      seen  seen     seen     list             valid  -      seen    seen  seen
dk_manager    se      -     -        null     FORBIDDEN        valid  -      -       -     -
dk_manager    no      -     -        null     FORBIDDEN        valid  -      -       -     -
global_admin  dk      seen  -        hidden   list             valid  -      seen    -     seen
global_admin  se      seen  -        hidden   list             valid  -      seen    -     seen
global_admin  no      seen  -        hidden   list             valid  -      seen    -     seen
se_member     dk      -     -        null     FORBIDDEN        valid  -      -       -     -
se_member     se      -     seen     seen     FORBIDDEN        valid  -      -       seen  seen
se_member     no      -     -        null     FORBIDDEN        valid  -      -       -     -
"""


def rows() -> list[tuple[str, str, dict[str, str]]]:
    header, *lines = TABLE.strip().splitlines()
    columns = header.split()[2:]
    table = []
    for line in lines:
        viewer, target, *cells = line.split()
        table.append((viewer, target, dict(zip(columns, cells, strict=True))))
    return table


def test_the_table_has_every_viewer_and_target_once() -> None:
    pairs = [(viewer, target) for viewer, target, _ in rows()]
    assert sorted(pairs) == sorted((v, t) for v in VIEWERS for t in TARGETS)


@dataclass
class Person:
    user_id: str  # global User id
    profile_id: str  # global Profile id
    username: str
    email: str
    community_id: str  # global id of a public community whose only member this person is
    credential: str  # a badge credential (VC-JWT) issued to this person
    notification_id: str  # global id of one of this person's notifications
    award_id: str  # global id of a BadgeAward the person holds
    avatar: tuple[str, str]  # (File global id, CID) of the person's avatar
    forum_id: str  # global id of a public territory forum of their territory
    topic_id: str  # global id of a topic they opened in it


@dataclass
class Cast:
    tokens: dict[str, str | None]
    targets: dict[str, Person]


async def only_member_community(db: Database, territory: str, user_key: uuid.UUID) -> str:
    community = uuid.uuid4()
    async with db.transaction(server_of(territory), territory) as conn:
        await conn.execute(
            insert(communities).values(
                id=community,
                slug=f"authz-{community.hex[:12]}",
                name="Authorization table",
                description="",
                is_public=True,
            )
        )
        await conn.execute(
            insert(community_memberships).values(
                community_id=community, user_id=user_key, role="admin"
            )
        )
    return ids.encode("Community", territory, str(community))


async def an_award(db: Database, territory: str, user_key: uuid.UUID) -> str:
    award = await award_badge(db, (territory, user_key), await define_badge(db, territory))
    return ids.encode("BadgeAward", territory, str(award.id))


EXPORT = """
mutation($i: ExportBadgeCredentialInput!) { exportBadgeCredential(input: $i) { credential } }"""


async def exported(client: httpx.AsyncClient, token: str, award_id: str) -> str:
    """The holder's own export of their award: a real credential."""
    body = await call(client, EXPORT, {"i": {"award": award_id}}, token)
    assert "errors" not in body, body
    credential: str = body["data"]["exportBadgeCredential"]["credential"]
    return credential


async def avatar_file(db: Database, territory: str, user_key: uuid.UUID) -> tuple[str, str]:
    """An avatar row and its reference, written directly (no IPFS call needs it: access is
    decided before the node is asked)."""
    file_key = uuid.uuid4()
    cid = "bafkreibvv4wrl266jvt3fflj5qmxjhubhr3paiugv7c2fkmhdqv7xwvlgi"
    async with db.transaction(server_of(territory), territory) as conn:
        await conn.execute(
            insert(files).values(
                id=file_key,
                owner_id=user_key,
                purpose="avatar",
                cid=cid,
                media_type="image/png",
                size=1,
                filename="me.png",
            )
        )
        await conn.execute(
            insert(file_references).values(
                file_id=file_key, kind="profile.avatar", object_id=user_key
            )
        )
        await conn.execute(
            update(profiles)
            .where(profiles.c.user_id == user_key)
            .values(avatar_ref=f"file:{file_key}")
        )
    return ids.encode("File", territory, str(file_key)), cid


async def forum_with_topic(db: Database, territory: str, user_key: uuid.UUID) -> tuple[str, str]:
    forum, topic = uuid.uuid4(), uuid.uuid4()
    async with db.transaction(server_of(territory), territory) as conn:
        await conn.execute(insert(forums).values(id=forum, name="Authorization table"))
        await conn.execute(
            insert(forum_topics).values(
                id=topic,
                forum_id=forum,
                title="Hello",
                body="Hello",
                author_territory=territory,
                author_id=user_key,
            )
        )
    return ids.encode("Forum", territory, str(forum)), ids.encode(
        "ForumTopic", territory, str(topic)
    )


@pytest.fixture(scope="module")
async def cast(auth_client: httpx.AsyncClient, db: Database) -> Cast:
    viewer_accounts = {
        "dk_member": ("dk", "member"),
        "dk_moderator": ("dk", "moderator"),
        "dk_manager": ("dk", "territory_manager"),
        "global_admin": ("global", "global_admin"),
        "se_member": ("se", "member"),
    }
    tokens: dict[str, str | None] = {"anonymous": None}
    for name, (territory, role) in viewer_accounts.items():
        tokens[name] = (await account(auth_client, db, territory, role=role))["accessToken"]
    targets = {}
    for territory in TARGETS:
        logged = await account(auth_client, db, territory)
        await offline_notifier(db).apply(envelope_of(granted(logged, territory)))
        me = await call(
            auth_client,
            "{ me { id username email notifications { nodes { id } } } }",
            token=logged["accessToken"],
        )
        user = me["data"]["me"]
        key = uuid.UUID(ids.decode(user["id"]).key)
        forum, topic = await forum_with_topic(db, territory, key)
        award_id = await an_award(db, territory, key)
        targets[territory] = Person(
            user_id=user["id"],
            profile_id=ids.encode("Profile", territory, str(key)),
            username=user["username"],
            email=user["email"],
            community_id=await only_member_community(db, territory, key),
            credential=await exported(auth_client, logged["accessToken"], award_id),
            notification_id=user["notifications"]["nodes"][0]["id"],
            award_id=award_id,
            avatar=await avatar_file(db, territory, key),
            forum_id=forum,
            topic_id=topic,
        )
    return Cast(tokens, targets)


USER = """
query($id: ID!) {
  node(id: $id) { ... on User { id username email roles { role territory } } }
  nodes(ids: [$id]) { ... on User { id username email } }
}"""
PROFILE = """
query($id: ID!, $user: ID!) {
  node(id: $id) { ... on Profile { id displayName } }
  nodes(ids: [$id]) { ... on Profile { id displayName } }
  profile(id: $user) { id displayName }
}"""
MEMBERS = """
query($id: ID!) {
  node(id: $id) { ... on Community { members { nodes { role profile { id displayName } } } } }
}"""
INVITATIONS = "query($t: String!) { invitations(territory: $t) { id territory } }"
VERIFY = """
query($c: String!) {
  verifyCredential(input: {credential: $c}) { valid credentialId issuer checks { reason } }
}"""
NOTES = """
query($id: ID!, $user: ID!) {
  node(id: $id) { id }
  user: node(id: $user) { ... on User { notifications { nodes { id } } unreadNotificationCount } }
}"""
AWARD = "query($id: ID!) { node(id: $id) { ... on BadgeAward { id status } } }"


async def observe_user(client: httpx.AsyncClient, token: str | None, person: Person) -> str:
    body = await call(client, USER, {"id": person.user_id}, token)
    if codes(body) == ["NOT_FOUND"]:
        assert body["data"] in (None, {"node": None, "nodes": [None]}), body
        nodes = await call(
            client, "query($id: ID!) { nodes(ids: [$id]) { id } }", {"id": person.user_id}, token
        )
        assert nodes == {"data": {"nodes": [None]}}, nodes
        return "-"
    assert "errors" not in body, body
    account_fields = {"id": person.user_id, "username": person.username, "email": person.email}
    assert body["data"] == {
        "node": {
            **account_fields,
            "roles": [{"role": "MEMBER", "territory": person_territory(person)}],
        },
        "nodes": [account_fields],
    }, body
    return "seen"


def person_territory(person: Person) -> str:
    return ids.decode(person.user_id).territory_id


async def observe_profile(client: httpx.AsyncClient, token: str | None, person: Person) -> str:
    variables = {"id": person.profile_id, "user": person.user_id}
    body = await call(client, PROFILE, variables, token)
    if codes(body) == ["NOT_FOUND"]:
        rest = await call(
            client,
            "query($id: ID!, $user: ID!) { nodes(ids: [$id]) { id } profile(id: $user) { id } }",
            variables,
            token,
        )
        assert rest == {"data": {"nodes": [None], "profile": None}}, rest
        return "-"
    assert "errors" not in body, body
    shown = {"id": person.profile_id, "displayName": person.username}
    assert body["data"] == {"node": shown, "nodes": [shown], "profile": shown}, body
    return "seen"


async def observe_members(client: httpx.AsyncClient, token: str | None, person: Person) -> str:
    body = await call(client, MEMBERS, {"id": person.community_id}, token)
    assert "errors" not in body, body
    members = body["data"]["node"]["members"]
    if members is None:
        return "null"
    [member] = members["nodes"]
    assert member["role"] == "ADMIN"
    if member["profile"] is None:
        return "hidden"
    assert member["profile"] == {"id": person.profile_id, "displayName": person.username}
    return "seen"


async def observe_invitations(client: httpx.AsyncClient, token: str | None, territory: str) -> str:
    body = await call(client, INVITATIONS, {"t": territory}, token)
    if "errors" in body:
        assert body["data"] is None, body
        [code] = codes(body)
        return str(code)
    listed = body["data"]["invitations"]
    assert listed, body  # the target's own invitation at least
    assert {i["territory"] for i in listed} == {territory}
    return "list"


async def observe_credential(client: httpx.AsyncClient, token: str | None, person: Person) -> str:
    body = await call(client, VERIFY, {"c": person.credential}, token)
    assert "errors" not in body, body
    answer = str(body["data"])
    assert ids.decode(person.user_id).key not in answer
    assert person.username not in answer
    return "valid" if body["data"]["verifyCredential"]["valid"] else "invalid"


async def observe_notes(client: httpx.AsyncClient, token: str | None, person: Person) -> str:
    body = await call(client, NOTES, {"id": person.notification_id, "user": person.user_id}, token)
    if body["data"] is not None and body["data"]["node"] is not None:
        return "seen"
    assert "NOT_FOUND" in codes(body), body
    user = body["data"] and body["data"]["user"]
    if user and (user["notifications"], user["unreadNotificationCount"]) != (None, None):
        return "seen"
    return "-"


async def observe_award(client: httpx.AsyncClient, token: str | None, person: Person) -> str:
    body = await call(client, AWARD, {"id": person.award_id}, token)
    export = codes(await call(client, EXPORT, {"i": {"award": person.award_id}}, token))
    if codes(body) == ["NOT_FOUND"]:
        assert export == ["UNAUTHENTICATED" if token is None else "NOT_FOUND"], export
        return "-"
    assert body["data"] == {"node": {"id": person.award_id, "status": "VALID"}}, body
    assert export == ["FORBIDDEN"], export
    return "seen"


async def observe_file(client: httpx.AsyncClient, token: str | None, person: Person) -> str:
    file_id, cid = person.avatar
    body = await call(client, "query($id: ID!) { node(id: $id) { id } }", {"id": file_id}, token)
    headers = {} if token is None else {"Authorization": f"Bearer {token}"}
    served = await client.head(f"/files/{cid}", params={"id": file_id}, headers=headers)
    if codes(body) == ["NOT_FOUND"]:
        assert served.status_code == 404, served
        return "-"
    assert body["data"]["node"] == {"id": file_id}, body
    assert served.status_code == 200, served
    return "seen"


FORUM = """
query($forum: ID!, $topic: ID!) {
  node(id: $forum) { ... on Forum { id name } }
  nodes(ids: [$topic]) { ... on ForumTopic { id author { userId } } }
}"""
FORUMS = "query($t: String!) { forums(territory: $t, first: 100) { nodes { id } } }"


async def observe_forum(client: httpx.AsyncClient, token: str | None, person: Person) -> str:
    body = await call(client, FORUM, {"forum": person.forum_id, "topic": person.topic_id}, token)
    listed = await call(client, FORUMS, {"t": person_territory(person)}, token)
    shown = [f["id"] for f in listed["data"]["forums"]["nodes"]]
    if codes(body) == ["NOT_FOUND"]:
        assert body["data"] in (None, {"node": None, "nodes": [None]}), body
        nodes = await call(
            client, "query($id: ID!) { nodes(ids: [$id]) { id } }", {"id": person.topic_id}, token
        )
        assert nodes == {"data": {"nodes": [None]}}, nodes
        assert person.forum_id not in shown
        return "-"
    assert "errors" not in body, body
    assert body["data"]["nodes"] == [{"id": person.topic_id, "author": {"userId": person.user_id}}]
    assert person.forum_id in shown
    return "seen"


@pytest.mark.parametrize(
    ("viewer", "target", "expected"),
    rows(),
    ids=[f"{viewer}-sees-{target}" for viewer, target, _ in rows()],
)
async def test_authorization_table(
    auth_client: httpx.AsyncClient, cast: Cast, viewer: str, target: str, expected: dict[str, Any]
) -> None:
    token = cast.tokens[viewer]
    person = cast.targets[target]
    observed = {
        "user": await observe_user(auth_client, token, person),
        "profile": await observe_profile(auth_client, token, person),
        "members": await observe_members(auth_client, token, person),
        "invitations": await observe_invitations(auth_client, token, target),
        "vc": await observe_credential(auth_client, token, person),
        "notes": await observe_notes(auth_client, token, person),
        "awards": await observe_award(auth_client, token, person),
        "file": await observe_file(auth_client, token, person),
        "forum": await observe_forum(auth_client, token, person),
    }
    assert observed == expected
