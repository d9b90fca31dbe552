"""Forums: the tree of categories and forums, their topic pages, and the moderators' views."""

from __future__ import annotations

import uuid
from datetime import datetime

import strawberry

from db.forums.records import ForumRecord, TopicRecord
from domain.errors import BadUserInput
from domain.forums import (
    ForumLevel,
    ForumVisibility,
    Standing,
)
from graph import ids
from graph.context import Context, Info
from graph.level_execution import batched_by
from graph.loaders.forums import (
    FLAG_PAGE,
    FORUM_BY_ID,
    FORUM_PAGE,
    LOG_PAGE,
    TOPIC_PAGE,
)
from graph.types.badges import badge_id
from graph.types.forums.access import Access, forum_access, forum_by_id
from graph.types.forums.moderation import ForumFlag, ForumModerationEntry
from graph.types.forums.posts import ForumTopic
from graph.types.relay import After, Connection, First, Node, connection, page_size

# --- forums


def _topic_cursor(record: TopicRecord) -> str:
    return f"{int(record.is_pinned)}|{record.last_activity_at.isoformat()}|{record.id}"


def _parse_topic_cursor(value: str | None) -> tuple[bool, datetime, uuid.UUID] | None:
    if value is None:
        return None
    try:
        pinned, at, key = value.split("|")
        return pinned == "1", datetime.fromisoformat(at), uuid.UUID(key)
    except ValueError:
        raise BadUserInput("Malformed cursor.", field="after") from None


def _uuid_cursor(value: str | None) -> uuid.UUID | None:
    if value is None:
        return None
    try:
        return uuid.UUID(value)
    except ValueError:
        raise BadUserInput("Malformed cursor.", field="after") from None


def _forum_cursor(record: ForumRecord) -> str:
    return f"{record.position}|{record.id}"


def _parse_forum_cursor(value: str | None) -> tuple[int, uuid.UUID] | None:
    if value is None:
        return None
    position, _, key = value.partition("|")
    try:
        return int(position), uuid.UUID(key)
    except ValueError:
        raise BadUserInput("Malformed cursor.", field="after") from None


async def topic_pages(
    context: Context, forums: list[Forum], first: int | None = None, after: str | None = None
) -> list[Connection[ForumTopic]]:
    """A page of topics of each forum: one loader batch for all of them (a level of forums,
    graph/level_execution.py, or one forum)."""
    limit = page_size(first)
    after_raw = ids.decode_cursor(after)
    cursor = _parse_topic_cursor(after_raw)
    loaders = context.loaders
    pending = [
        loaders.get(TOPIC_PAGE, f.territory_code).load((f.key, cursor, limit + 1)) for f in forums
    ]
    pages = []
    for page in pending:
        rows = await page  # issued together above: one batch
        pages.append(
            connection(
                rows, limit, sort_key=_topic_cursor, node=ForumTopic.from_record, after=after_raw
            )
        )
    return pages


@strawberry.type(
    description="A forum: a place for topics, or a category whose children are forums (the "
    "tree has any depth). Visible to you when its level, visibility, community and read badges "
    "allow; NOT_FOUND otherwise, through every path."
)
class Forum(Node):
    territory_code: strawberry.Private[str]
    key: strawberry.Private[uuid.UUID]
    parent_key: strawberry.Private[uuid.UUID | None]
    standing: strawberry.Private[Standing]
    name: str = strawberry.field(description="Display name, one line of at most 120 characters.")
    description: str = strawberry.field(description="What it is for, as written; may be empty.")
    level: ForumLevel = strawberry.field(description="Global, territory or community.")
    visibility: ForumVisibility = strawberry.field(description="Who may read it.")
    is_open: bool = strawberry.field(description="Closed forums take no new topics or comments.")
    position: int = strawberry.field(description="Its place among its siblings (ascending).")
    community_id: strawberry.ID | None = strawberry.field(
        description="The community of a COMMUNITY forum; null otherwise."
    )
    badges_to_read: list[strawberry.ID] = strawberry.field(
        description="Badges (all of them) needed to read, unless you hold forum.read."
    )
    badges_to_post: list[strawberry.ID] = strawberry.field(
        description="Badges (all of them) needed to post, unless you hold forum.post."
    )
    viewer_moderates: bool = strawberry.field(
        description="True when you moderate this forum (forum.moderate for its scope)."
    )

    @classmethod
    def from_access(cls, access: Access) -> Forum:
        record = access.record
        territory_id = record.territory_id
        return cls(
            id=strawberry.ID(ids.encode("Forum", territory_id, str(record.id))),
            territory_code=territory_id,
            key=record.id,
            parent_key=record.parent_id,
            standing=access.standing,
            name=record.name,
            description=record.description,
            level=record.facts.level,
            visibility=record.visibility,
            is_open=record.is_open,
            position=record.position,
            community_id=(
                None
                if record.community_id is None
                else strawberry.ID(ids.encode("Community", territory_id, str(record.community_id)))
            ),
            badges_to_read=[badge_id(b) for b in record.read_badges],
            badges_to_post=[badge_id(b) for b in record.post_badges],
            viewer_moderates=access.standing.moderates,
        )

    @strawberry.field(description="The forum above it; null for a root forum.")
    async def parent(self, info: Info) -> Forum | None:
        if self.parent_key is None:
            return None
        access = await forum_by_id(info, self.territory_code, self.parent_key)
        return None if access is None else Forum.from_access(access)

    @strawberry.field(description="Its child forums (subcategories) that you may see, by position.")
    async def children(
        self, info: Info, first: First = None, after: After = None
    ) -> Connection[Forum]:
        return await forum_page(info, self.territory_code, self.key, first, after)

    @strawberry.field(
        description="Its topics, pinned first, then by latest activity; hidden ones are left out.",
        metadata=batched_by(topic_pages),
    )
    async def topics(
        self, info: Info, first: First = None, after: After = None
    ) -> Connection[ForumTopic]:
        (page,) = await topic_pages(info.context, [self], first, after)
        return page

    @strawberry.field(
        description="Open flags awaiting review, oldest first; null unless you moderate it."
    )
    async def review_queue(
        self, info: Info, first: First = None, after: After = None
    ) -> Connection[ForumFlag] | None:
        if not self.standing.moderates:
            return None
        limit = page_size(first)
        after_raw = ids.decode_cursor(after)
        loader = info.context.loaders.get(FLAG_PAGE, self.territory_code)
        rows = await loader.load((self.key, _uuid_cursor(after_raw), limit + 1))
        return connection(
            rows,
            limit,
            sort_key=lambda r: str(r.id),
            node=lambda r: ForumFlag.from_record(self.territory_code, r),
            after=after_raw,
        )

    @strawberry.field(
        description="Every moderation step in this forum, newest first; null unless you "
        "moderate it."
    )
    async def moderation_log(
        self, info: Info, first: First = None, after: After = None
    ) -> Connection[ForumModerationEntry] | None:
        if not self.standing.moderates:
            return None
        limit = page_size(first)
        after_raw = ids.decode_cursor(after)
        loader = info.context.loaders.get(LOG_PAGE, self.territory_code)
        rows = await loader.load((self.key, _uuid_cursor(after_raw), limit + 1))
        return connection(
            rows,
            limit,
            sort_key=lambda r: str(r.id),
            node=lambda r: ForumModerationEntry.from_record(self.territory_code, r),
            after=after_raw,
        )


async def forum_page(
    info: Info,
    territory_id: str,
    parent: uuid.UUID | None,
    first: int | None,
    after: str | None,
) -> Connection[Forum]:
    """A page of forums the caller may see. Hidden forums are read and left out, so a page may
    hold fewer than ``first`` items while ``hasNextPage`` stays right."""
    limit = page_size(first)
    after_raw = ids.decode_cursor(after)
    loader = info.context.loaders.get(FORUM_PAGE, territory_id)
    rows = await loader.load((parent, _parse_forum_cursor(after_raw), limit + 1))
    by_id = info.context.loaders.get(FORUM_BY_ID, territory_id)
    window = rows[:limit]
    for row in window:
        by_id.prime(row.id, row)
    shown = [a for a in [await forum_access(info, r) for r in window] if a is not None]
    found = connection(
        shown,
        len(shown),
        sort_key=lambda a: _forum_cursor(a.record),
        node=Forum.from_access,
        after=after_raw,
    )
    found.page_info.has_next_page = len(rows) > limit
    if window:  # the next page starts after the last row read, shown or not
        found.page_info.end_cursor = ids.encode_cursor(_forum_cursor(window[-1]))
    return found
