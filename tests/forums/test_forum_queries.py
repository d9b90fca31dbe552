"""Forums read through GraphQL: the tree, topic listing order, threads, isolation, global forums."""

from __future__ import annotations

import httpx

from db.engines import Database
from tests.authkit import account, call, codes
from tests.forums.forumkit import new_comment, new_forum, new_topic, ok

TOPICS = """query($id: ID!) { node(id: $id) { ... on Forum { name
  topics(first: 10) { nodes { id title isPinned commentCount author { userId }
    comments(first: 10) { nodes { id body depth replyCount thread { body depth } } } } } } } }"""


async def test_topics_comments_and_a_whole_thread(
    auth_client: httpx.AsyncClient, db: Database
) -> None:
    manager = await account(auth_client, db, "dk", role="territory_manager")
    alice = await account(auth_client, db, "dk")
    bob = await account(auth_client, db, "dk")
    forum = await new_forum(auth_client, manager["accessToken"], "dk")
    topic = await new_topic(auth_client, alice["accessToken"], forum, "Seeds")
    first = await new_comment(auth_client, bob["accessToken"], topic, "<b>not html</b>")
    reply = await new_comment(auth_client, alice["accessToken"], topic, "reply", first)
    await new_comment(auth_client, bob["accessToken"], topic, "deeper", reply)
    data = ok(await call(auth_client, TOPICS, {"id": forum}, bob["accessToken"]))
    (listed,) = data["node"]["topics"]["nodes"]
    assert listed["title"] == "Seeds"
    assert listed["commentCount"] == 3
    assert listed["author"]["userId"] == alice["user"]["id"]
    (top,) = listed["comments"]["nodes"]
    assert top["body"] == "<b>not html</b>"  # stored and returned as given
    assert top["replyCount"] == 1
    assert [(c["body"], c["depth"]) for c in top["thread"]] == [("reply", 1), ("deeper", 2)]


async def test_another_territorys_forum_is_invisible(
    auth_client: httpx.AsyncClient, db: Database
) -> None:
    manager = await account(auth_client, db, "dk", role="territory_manager")
    outsider = await account(auth_client, db, "se")
    forum = await new_forum(auth_client, manager["accessToken"], "dk", "Danish only")
    topic = await new_topic(auth_client, manager["accessToken"], forum)
    listed = ok(
        await call(
            auth_client,
            '{ forums(territory: "dk", first: 100) { nodes { id } } }',
            token=outsider["accessToken"],
        )
    )
    assert forum not in [f["id"] for f in listed["forums"]["nodes"]]
    for target in (forum, topic):
        body = await call(
            auth_client,
            "query($id: ID!) { node(id: $id) { id } }",
            {"id": target},
            outsider["accessToken"],
        )
        assert codes(body) == ["NOT_FOUND"]
        body = await call(
            auth_client,
            "query($ids: [ID!]!) { nodes(ids: $ids) { id } }",
            {"ids": [target]},
            outsider["accessToken"],
        )
        assert body["data"]["nodes"] == [None]
        body = await call(
            auth_client,
            "query($r: [_Any!]!) { _entities(representations: $r) { ... on Node { id } } }",
            {"r": [{"__typename": "ForumTopic" if target == topic else "Forum", "id": target}]},
            outsider["accessToken"],
        )
        assert body["data"]["_entities"] == [None], body
