"""What the forum tests share: GraphQL documents and steps that create forums, topics and
comments through the public API."""

from __future__ import annotations

from typing import Any

import httpx

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
