"""What the forum tests share: GraphQL documents and steps that create forums, topics and
comments through the public API."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import delete, insert

from db.engines import Database
from db.models import forum_comments, forum_topics, forums
from tests.authkit import call

CREATE_FORUM = """mutation($i: CreateForumInput!) { createForum(input: $i) {
  forum { id name level visibility isOpen viewerModerates } } }"""
CREATE_TOPIC = """mutation($i: CreateForumTopicInput!) { createForumTopic(input: $i) {
  topic { id title body tags isPinned author { userId } } } }"""
ADD_COMMENT = """mutation($i: AddForumCommentInput!) { addForumComment(input: $i) {
  comment { id body depth parentId author { userId } } } }"""


def ok(body: dict[str, Any]) -> dict[str, Any]:
    assert "errors" not in body, body
    data: dict[str, Any] = body["data"]
    return data


async def new_forum(
    client: httpx.AsyncClient, token: str, territory: str, name: str = "General", **extra: Any
) -> str:
    data = ok(
        await call(
            client, CREATE_FORUM, {"i": {"territory": territory, "name": name, **extra}}, token
        )
    )
    forum_id: str = data["createForum"]["forum"]["id"]
    return forum_id


async def new_topic(
    client: httpx.AsyncClient, token: str, forum_id: str, title: str = "Hello", **extra: Any
) -> str:
    body = {"forumId": forum_id, "title": title, "body": "First post.", **extra}
    data = ok(await call(client, CREATE_TOPIC, {"i": body}, token))
    topic_id: str = data["createForumTopic"]["topic"]["id"]
    return topic_id


async def new_comment(
    client: httpx.AsyncClient,
    token: str,
    topic_id: str,
    text: str = "A comment",
    parent: str | None = None,
) -> str:
    body = {"topicId": topic_id, "body": text, "parentId": parent}
    data = ok(await call(client, ADD_COMMENT, {"i": body}, token))
    comment_id: str = data["addForumComment"]["comment"]["id"]
    return comment_id


async def fill_forums(
    db: Database,
    territory: str,
    n_forums: int,
    n_topics: int,
    n_comments: int,
    authors: list[tuple[str, uuid.UUID]],
) -> None:
    """Only these forums in ``territory``, written directly (statement counts need many):
    n_forums x n_topics x n_comments, the last comment of each topic a reply to its first."""
    start = datetime.now(UTC)
    forum_rows, topic_rows, comment_rows = [], [], []
    for f in range(n_forums):
        forum_id = uuid.uuid4()
        forum_rows.append({"id": forum_id, "name": f"count-{f:03d}", "position": f})
        for t in range(n_topics):
            topic_id = uuid.uuid4()
            author = authors[(f + t) % len(authors)]
            topic_rows.append(
                {
                    "id": topic_id,
                    "forum_id": forum_id,
                    "title": f"t{t}",
                    "body": "b",
                    "author_territory": author[0],
                    "author_id": author[1],
                    "last_activity_at": start - timedelta(minutes=t),
                }
            )
            first = None
            for c in range(n_comments):
                comment_id = uuid.uuid4()
                author = authors[(f + t + c) % len(authors)]
                reply = first is not None and c == n_comments - 1
                comment_rows.append(
                    {
                        "id": comment_id,
                        "topic_id": topic_id,
                        "parent_id": first if reply else None,
                        "path": f"{first.hex}/{comment_id.hex}"
                        if reply and first is not None
                        else comment_id.hex,
                        "depth": 1 if reply else 0,
                        "body": f"c{c}",
                        "author_territory": author[0],
                        "author_id": author[1],
                    }
                )
                first = first or comment_id
    async with db.transaction("main", territory) as conn:
        await conn.execute(delete(forums))
        await conn.execute(insert(forums), forum_rows)
        await conn.execute(insert(forum_topics), topic_rows)
        await conn.execute(insert(forum_comments), comment_rows)
