"""Topic and comment mutations: edits with history, votes, soft delete, close, pin, limits."""

from __future__ import annotations

import httpx

from db.engines import Database
from tests.authkit import account, call, codes, fields
from tests.forums.forumkit import ADD_COMMENT, new_comment, new_forum, new_topic, ok

EDIT_TOPIC = """mutation($i: EditForumTopicInput!) { editForumTopic(input: $i) {
  topic { title body tags editedAt } } }"""
EDIT_COMMENT = """mutation($i: EditForumCommentInput!) { editForumComment(input: $i) {
  comment { body editedAt } } }"""
DELETE = (
    """mutation($i: DeleteForumCommentInput!) { deleteForumComment(input: $i) { deletedId } }"""
)
VOTE = """mutation($i: VoteForumCommentInput!) { voteForumComment(input: $i) {
  previousVote comment { upVotes downVotes score } } }"""
TOPIC = """query($id: ID!) { node(id: $id) { ... on ForumTopic { title revisions { title body }
  comments(orderBy: TOP) { nodes { id body isDeleted score viewerVote
    revisions { body } } } } } }"""
LISTING = "query($id: ID!) { node(id: $id) { ... on Forum { topics { nodes { id isPinned } } } } }"


async def test_edits_keep_their_history_for_moderators(
    auth_client: httpx.AsyncClient, db: Database
) -> None:
    manager = await account(auth_client, db, "dk", role="territory_manager")
    author, other = await account(auth_client, db, "dk"), await account(auth_client, db, "dk")
    forum = await new_forum(auth_client, manager["accessToken"], "dk")
    topic = await new_topic(auth_client, author["accessToken"], forum, "Old title")
    comment = await new_comment(auth_client, author["accessToken"], topic, "old text")
    edit = {"topicId": topic, "title": "New title", "body": "New body", "tags": ["Seeds"]}
    edited = ok(await call(auth_client, EDIT_TOPIC, {"i": edit}, author["accessToken"]))
    assert edited["editForumTopic"]["topic"]["tags"] == ["seeds"]
    assert edited["editForumTopic"]["topic"]["editedAt"]
    ok(
        await call(
            auth_client,
            EDIT_COMMENT,
            {"i": {"commentId": comment, "body": "new text"}},
            author["accessToken"],
        )
    )
    refused = await call(
        auth_client, EDIT_COMMENT, {"i": {"commentId": comment, "body": "x"}}, other["accessToken"]
    )
    assert codes(refused) == ["FORBIDDEN"]
    seen = ok(await call(auth_client, TOPIC, {"id": topic}, manager["accessToken"]))["node"]
    assert seen["revisions"] == [{"title": "Old title", "body": "First post."}]
    assert seen["comments"]["nodes"][0]["revisions"] == [{"body": "old text"}]
    plain = ok(await call(auth_client, TOPIC, {"id": topic}, other["accessToken"]))["node"]
    assert plain["revisions"] is None
    assert plain["comments"]["nodes"][0]["revisions"] is None


async def test_one_vote_per_person_changed_or_retracted_and_top_order(
    auth_client: httpx.AsyncClient, db: Database
) -> None:
    manager = await account(auth_client, db, "dk", role="territory_manager")
    a, b = await account(auth_client, db, "dk"), await account(auth_client, db, "dk")
    forum = await new_forum(auth_client, manager["accessToken"], "dk")
    topic = await new_topic(auth_client, a["accessToken"], forum)
    first = await new_comment(auth_client, a["accessToken"], topic, "first")
    second = await new_comment(auth_client, a["accessToken"], topic, "second")

    async def vote(token: str, comment: str, value: str | None) -> dict[str, object]:
        body = ok(
            await call(auth_client, VOTE, {"i": {"commentId": comment, "vote": value}}, token)
        )
        result: dict[str, object] = body["voteForumComment"]
        return result

    assert (await vote(a["accessToken"], second, "UP"))["previousVote"] is None
    assert (await vote(a["accessToken"], second, "UP"))["comment"] == {
        "upVotes": 1,
        "downVotes": 0,
        "score": 1,
    }
    changed = await vote(a["accessToken"], second, "DOWN")
    assert changed["previousVote"] == "UP"
    assert changed["comment"] == {"upVotes": 0, "downVotes": 1, "score": -1}
    await vote(a["accessToken"], second, None)
    await vote(b["accessToken"], second, "UP")
    nodes = ok(await call(auth_client, TOPIC, {"id": topic}, b["accessToken"]))["node"]["comments"]
    assert [(n["body"], n["score"], n["viewerVote"]) for n in nodes["nodes"]] == [
        ("second", 1, "UP"),
        ("first", 0, None),
    ]
    assert first != second


async def test_soft_delete_keeps_the_place_and_drops_the_text(
    auth_client: httpx.AsyncClient, db: Database
) -> None:
    manager = await account(auth_client, db, "dk", role="territory_manager")
    author = await account(auth_client, db, "dk")
    forum = await new_forum(auth_client, manager["accessToken"], "dk")
    topic = await new_topic(auth_client, author["accessToken"], forum)
    comment = await new_comment(auth_client, author["accessToken"], topic, "gone soon")
    await new_comment(auth_client, manager["accessToken"], topic, "a reply", comment)
    deleted = ok(
        await call(auth_client, DELETE, {"i": {"commentId": comment}}, author["accessToken"])
    )
    assert deleted["deleteForumComment"]["deletedId"] == comment
    query = """query($id: ID!) { node(id: $id) { ... on ForumTopic { comments { nodes {
      body isDeleted author { userId } thread { body } } } } } }"""
    nodes = ok(await call(auth_client, query, {"id": topic}, author["accessToken"]))
    assert nodes["node"]["comments"]["nodes"] == [
        {"body": None, "isDeleted": True, "author": None, "thread": [{"body": "a reply"}]}
    ]


async def test_closed_topics_take_no_comments_and_pinned_ones_come_first(
    auth_client: httpx.AsyncClient, db: Database
) -> None:
    manager = await account(auth_client, db, "dk", role="territory_manager")
    member = await account(auth_client, db, "dk")
    forum = await new_forum(auth_client, manager["accessToken"], "dk")
    older = await new_topic(auth_client, member["accessToken"], forum, "older")
    newer = await new_topic(auth_client, member["accessToken"], forum, "newer")
    listing = ok(await call(auth_client, LISTING, {"id": forum}, member["accessToken"]))
    assert [t["id"] for t in listing["node"]["topics"]["nodes"]] == [newer, older]
    pin = "mutation($t: ID!) { pinForumTopic(input: {topicId: $t}) { topic { isPinned } } }"
    ok(await call(auth_client, pin, {"t": older}, manager["accessToken"]))
    listing = ok(await call(auth_client, LISTING, {"id": forum}, member["accessToken"]))
    assert [(t["id"], t["isPinned"]) for t in listing["node"]["topics"]["nodes"]] == [
        (older, True),
        (newer, False),
    ]
    refused = await call(auth_client, pin, {"t": older}, member["accessToken"])
    assert codes(refused) == ["FORBIDDEN"]
    close = "mutation($t: ID!) { closeForumTopic(input: {topicId: $t}) { topic { isClosed } } }"
    ok(await call(auth_client, close, {"t": newer}, manager["accessToken"]))
    body = await call(
        auth_client, ADD_COMMENT, {"i": {"topicId": newer, "body": "late"}}, member["accessToken"]
    )
    assert codes(body) == ["TOPIC_CLOSED"]
    reopen = "mutation($t: ID!) { reopenForumTopic(input: {topicId: $t}) { topic { isClosed } } }"
    ok(await call(auth_client, reopen, {"t": newer}, manager["accessToken"]))
    await new_comment(auth_client, member["accessToken"], newer, "in time")


async def test_limits_name_the_field(auth_client: httpx.AsyncClient, db: Database) -> None:
    manager = await account(auth_client, db, "dk", role="territory_manager")
    forum = await new_forum(auth_client, manager["accessToken"], "dk")
    topic = await new_topic(auth_client, manager["accessToken"], forum)
    body = await call(
        auth_client,
        ADD_COMMENT,
        {"i": {"topicId": topic, "body": "x" * 10_001}},
        manager["accessToken"],
    )
    assert codes(body) == ["BAD_USER_INPUT"]
    assert fields(body) == ["body"]
