"""Badge gating: reading and posting need the forum's badges (or forum.read / forum.post in its
scope); a global forum takes accounts of every territory, their authors resolved at home."""

from __future__ import annotations

import httpx

from db.engines import Database
from domain.badges import Permission
from graph import ids
from tests.authkit import account, award_badge, call, codes, define_badge
from tests.forums.forumkit import CREATE_TOPIC, new_comment, new_forum, new_topic, ok

NODE = "query($id: ID!) { node(id: $id) { id } }"


def badge_id(ref: object) -> str:
    return ids.encode("Badge", ref.home, str(ref.id))  # type: ignore[attr-defined]


async def test_reading_needs_the_forums_read_badge(
    auth_client: httpx.AsyncClient, db: Database
) -> None:
    manager = await account(auth_client, db, "dk", role="territory_manager")
    reader, stranger = await account(auth_client, db, "dk"), await account(auth_client, db, "dk")
    badge = await define_badge(db, "dk", name="Elder")
    await award_badge(db, reader, badge)
    forum = await new_forum(
        auth_client, manager["accessToken"], "dk", "Elders", badgesToRead=[badge_id(badge)]
    )
    assert ok(await call(auth_client, NODE, {"id": forum}, reader["accessToken"]))["node"]
    assert codes(await call(auth_client, NODE, {"id": forum}, stranger["accessToken"])) == [
        "NOT_FOUND"
    ]
    holder = await account(auth_client, db, "dk")
    reads_all = await define_badge(db, "dk", name="Reader", permissions=(Permission.FORUM_READ,))
    await award_badge(db, holder, reads_all)
    assert ok(await call(auth_client, NODE, {"id": forum}, holder["accessToken"]))["node"]


async def test_posting_needs_the_forums_post_badge(
    auth_client: httpx.AsyncClient, db: Database
) -> None:
    manager = await account(auth_client, db, "dk", role="territory_manager")
    poster, reader = await account(auth_client, db, "dk"), await account(auth_client, db, "dk")
    badge = await define_badge(db, "dk", name="Forum Participant")
    await award_badge(db, poster, badge)
    forum = await new_forum(
        auth_client, manager["accessToken"], "dk", "Gated", badgesToPost=[badge_id(badge)]
    )
    await new_topic(auth_client, poster["accessToken"], forum)
    refused = await call(
        auth_client,
        CREATE_TOPIC,
        {"i": {"forumId": forum, "title": "Hi", "body": "Hi"}},
        reader["accessToken"],
    )
    assert codes(refused) == ["BADGE_REQUIRED"]
    # The forum stays readable for them.
    assert ok(await call(auth_client, NODE, {"id": forum}, reader["accessToken"]))["node"]


async def test_a_global_forum_holds_posts_of_many_territories(
    auth_client: httpx.AsyncClient, db: Database
) -> None:
    admin = await account(auth_client, db, "global", role="global_admin")
    dane, swede = await account(auth_client, db, "dk"), await account(auth_client, db, "se")
    forum = await new_forum(auth_client, admin["accessToken"], "global", "Commons")
    topic = await new_topic(auth_client, dane["accessToken"], forum)
    await new_comment(auth_client, swede["accessToken"], topic, "Hej!")
    query = """query($id: ID!) { node(id: $id) { ... on ForumTopic {
      author { userId profile { displayName } }
      comments { nodes { body author { userId profile { displayName } } } } } } }"""
    data = ok(await call(auth_client, query, {"id": topic}, swede["accessToken"]))["node"]
    assert data["author"]["userId"] == dane["user"]["id"]
    (comment,) = data["comments"]["nodes"]
    assert comment["author"]["userId"] == swede["user"]["id"]
    # Each profile resolves from its own territory's schema, under its owner's privacy: the
    # Swede sees their own profile, not the Dane's (default preset: their territory only).
    assert comment["author"]["profile"]["displayName"] == swede["user"]["username"]
    assert data["author"]["profile"] is None
    listed = ok(await call(auth_client, '{ forums(territory: "global") { nodes { id level } } }'))[
        "forums"
    ]["nodes"]
    assert {"id": forum, "level": "GLOBAL"} in listed
