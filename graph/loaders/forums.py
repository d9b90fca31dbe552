"""Batched forum reads: one statement per batch and territory, pages under many parents included.

Who may see what is decided by the callers of these loaders (graph/types/forums.py) from the
forum's facts and the caller's standing, once per forum, never per topic or comment.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncConnection

from db.forums import moderation as moderation_db
from db.forums import reads
from db.forums.moderation import FlagPageKey, FlagRecord, LogPageKey, LogRecord
from db.forums.reads import CommentPageKey, ForumPageKey, Revision, Sanctions, TopicPageKey
from db.forums.records import CommentRecord, ForumRecord, TopicRecord
from domain.forums import Author, VoteValue
from graph.loaders.spec import Scope, TerritoryLoader


async def _forums(
    conn: AsyncConnection, scope: Scope, keys: list[uuid.UUID]
) -> list[ForumRecord | None]:
    found = await reads.forums_by_ids(conn, scope.territory_id, keys)
    return [found.get(k) for k in keys]


async def _topics(
    conn: AsyncConnection, scope: Scope, keys: list[uuid.UUID]
) -> list[TopicRecord | None]:
    found = await reads.topics_by_ids(conn, scope.territory_id, keys)
    return [found.get(k) for k in keys]


CommentInForum = tuple[CommentRecord, uuid.UUID]
"""A comment and the id of the forum it is in."""


async def _comments(
    conn: AsyncConnection, scope: Scope, keys: list[uuid.UUID]
) -> list[CommentInForum | None]:
    found = await reads.comments_by_ids(conn, keys)
    return [found.get(k) for k in keys]


async def _forum_pages(
    conn: AsyncConnection, scope: Scope, keys: list[ForumPageKey]
) -> list[Sequence[ForumRecord]]:
    return list(await reads.forum_pages(conn, scope.territory_id, keys))


async def _topic_pages(
    conn: AsyncConnection, scope: Scope, keys: list[TopicPageKey]
) -> list[Sequence[TopicRecord]]:
    return list(await reads.topic_pages(conn, scope.territory_id, keys))


async def _comment_pages(
    conn: AsyncConnection, scope: Scope, keys: list[CommentPageKey]
) -> list[Sequence[CommentRecord]]:
    return list(await reads.comment_pages(conn, keys))


async def _threads(
    conn: AsyncConnection, scope: Scope, keys: list[uuid.UUID]
) -> list[Sequence[CommentRecord]]:
    return list(await reads.threads(conn, keys))


async def _my_votes(
    conn: AsyncConnection, scope: Scope, keys: list[uuid.UUID]
) -> list[VoteValue | None]:
    caller = scope.caller
    if not caller.is_authenticated:
        return [None] * len(keys)
    found = await reads.votes_of(conn, caller.account(), keys)
    return [found.get(k) for k in keys]


async def _sanctions(conn: AsyncConnection, scope: Scope, keys: list[Author]) -> list[Sanctions]:
    found = await reads.sanctions_of(conn, keys)
    return [found.get(k, ((), False, None)) for k in keys]


async def _flag_pages(
    conn: AsyncConnection, scope: Scope, keys: list[FlagPageKey]
) -> list[Sequence[FlagRecord]]:
    return list(await moderation_db.flag_pages(conn, keys))


async def _log_pages(
    conn: AsyncConnection, scope: Scope, keys: list[LogPageKey]
) -> list[Sequence[LogRecord]]:
    return list(await moderation_db.log_pages(conn, keys))


async def _log_entries(
    conn: AsyncConnection, scope: Scope, keys: list[uuid.UUID]
) -> list[LogRecord | None]:
    found = await moderation_db.log_by_ids(conn, keys)
    return [found.get(k) for k in keys]


FORUM_BY_ID: TerritoryLoader[uuid.UUID, ForumRecord | None] = TerritoryLoader(
    "forums.forum_by_id", _forums, missing=None
)
"""Any forum by id: the reader decides whether the caller may see it."""

TOPIC_BY_ID: TerritoryLoader[uuid.UUID, TopicRecord | None] = TerritoryLoader(
    "forums.topic_by_id", _topics, missing=None
)
COMMENT_BY_ID: TerritoryLoader[uuid.UUID, CommentInForum | None] = TerritoryLoader(
    "forums.comment_by_id", _comments, missing=None
)
FORUM_PAGE: TerritoryLoader[ForumPageKey, Sequence[ForumRecord]] = TerritoryLoader(
    "forums.forum_page", _forum_pages, missing=()
)
"""A page of a forum's children (or the territory's root forums) by (position, id)."""

TOPIC_PAGE: TerritoryLoader[TopicPageKey, Sequence[TopicRecord]] = TerritoryLoader(
    "forums.topic_page", _topic_pages, missing=()
)
"""A page of a forum's visible topics, pinned first, then by latest activity."""

COMMENT_PAGE: TerritoryLoader[CommentPageKey, Sequence[CommentRecord]] = TerritoryLoader(
    "forums.comment_page", _comment_pages, missing=()
)
"""A page of a topic's top-level comments, or of a comment's replies, in the key's order."""

THREAD: TerritoryLoader[uuid.UUID, Sequence[CommentRecord]] = TerritoryLoader(
    "forums.thread", _threads, missing=()
)
"""Every reply under a comment, any depth, depth first by time."""

MY_VOTE: TerritoryLoader[uuid.UUID, VoteValue | None] = TerritoryLoader(
    "forums.my_vote", _my_votes, missing=None
)
"""The caller's own vote on a comment."""

SANCTIONS: TerritoryLoader[Author, Sanctions] = TerritoryLoader(
    "forums.sanctions", _sanctions, missing=((), False, None)
)
"""A person's strikes and restriction in the territory's forums."""

FLAG_PAGE: TerritoryLoader[FlagPageKey, Sequence[FlagRecord]] = TerritoryLoader(
    "forums.flag_page", _flag_pages, missing=()
)
"""A page of a forum's open flags (the review queue), oldest first."""

LOG_PAGE: TerritoryLoader[LogPageKey, Sequence[LogRecord]] = TerritoryLoader(
    "forums.log_page", _log_pages, missing=()
)
"""A page of a forum's moderation log, newest first."""

LOG_ENTRY: TerritoryLoader[uuid.UUID, LogRecord | None] = TerritoryLoader(
    "forums.log_entry", _log_entries, missing=None
)


async def _revisions(
    conn: AsyncConnection, scope: Scope, keys: list[uuid.UUID]
) -> list[Sequence[Revision]]:
    found = await reads.revisions_of(conn, keys)
    return [found.get(k, ()) for k in keys]


REVISIONS: TerritoryLoader[uuid.UUID, Sequence[Revision]] = TerritoryLoader(
    "forums.revisions", _revisions, missing=()
)
"""Earlier versions of a topic or comment, oldest first (for moderators)."""
