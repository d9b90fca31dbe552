"""The forums area's root fields: queries and post mutations (``posts.py``), moderation
(``moderation.py``), live updates (``live.py``), and the node resolvers of its types."""

from __future__ import annotations

from graph import ids
from graph.context import Info
from graph.types.forums import (
    Forum,
    ForumComment,
    ForumTopic,
    comment_in,
    forum_by_id,
    log_entry_in,
    topic_in,
)
from graph.types.relay import Node
from resolvers.forums.live import ForumSubscriptions
from resolvers.forums.moderation import ForumModerationMutations
from resolvers.forums.posts import ForumMutations, ForumQueries

__all__ = [
    "ForumModerationMutations",
    "ForumMutations",
    "ForumQueries",
    "ForumSubscriptions",
    "comment_node",
    "forum_node",
    "log_entry_node",
    "topic_node",
]


async def forum_node(info: Info, key: ids.NodeKey) -> Node | None:
    """``node`` on a Forum id: NOT_FOUND unless the caller may see the forum."""
    access = await forum_by_id(info, key.territory_id, ids.parse_uuid(key.key))
    return None if access is None else Forum.from_access(access)


async def topic_node(info: Info, key: ids.NodeKey) -> Node | None:
    found = await topic_in(info, key.territory_id, ids.parse_uuid(key.key))
    return None if found is None else ForumTopic.from_record(found[0])


async def comment_node(info: Info, key: ids.NodeKey) -> Node | None:
    found = await comment_in(info, key.territory_id, ids.parse_uuid(key.key))
    return None if found is None else ForumComment.from_record(key.territory_id, found[0])


async def log_entry_node(info: Info, key: ids.NodeKey) -> Node | None:
    return await log_entry_in(info, key.territory_id, ids.parse_uuid(key.key))
