"""Topics and comments. Every item field is a plain attribute built from one page statement;
text is returned exactly as written, never rendered to HTML."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from functools import partial
from typing import TYPE_CHECKING, Annotated

import strawberry

from db.forums.records import CommentRecord, TopicRecord
from domain.errors import BadUserInput
from domain.forums import (
    CommentOrder,
    VoteValue,
)
from graph import ids
from graph.context import Context, Info
from graph.level_execution import batched_by
from graph.loaders.forums import (
    COMMENT_PAGE,
    MY_VOTE,
    REVISIONS,
    THREAD,
)
from graph.types.forums.access import comment_in, forum_by_id
from graph.types.forums.authors import ForumAuthor
from graph.types.relay import After, Connection, First, Node, connection, hub_type, page_size

if TYPE_CHECKING:
    from graph.types.forums.tree import Forum

TREE = "graph.types.forums.tree"


@strawberry.type(description="An earlier version of an edited topic or comment.")
class ForumRevision:
    title: str | None = strawberry.field(description="The topic's title then; null for comments.")
    body: str = strawberry.field(description="The text then, as written.")
    written_at: datetime = strawberry.field(description="When that version was written.")


async def revisions(
    info: Info, territory_id: str, key: uuid.UUID, moderates: bool
) -> list[ForumRevision] | None:
    if not moderates:
        return None
    found = await info.context.loaders.get(REVISIONS, territory_id).load(key)
    return [ForumRevision(title=t, body=b, written_at=w) for t, b, w in found]


# --- comments


def _comment_cursor(record: CommentRecord) -> str:
    return f"{record.score}|{record.id}"


def _parse_comment_cursor(value: str | None) -> tuple[int, uuid.UUID] | None:
    if value is None:
        return None
    score, _, key = value.partition("|")
    try:
        return int(score), uuid.UUID(key)
    except ValueError:
        raise BadUserInput("Malformed cursor.", field="after") from None


async def comment_pages(
    context: Context,
    parents: Sequence[tuple[str, uuid.UUID, uuid.UUID | None]],
    *,
    order: CommentOrder,
    first: int | None,
    after: str | None,
) -> list[Connection[ForumComment]]:
    """A page of comments under each (territory, topic, parent comment or None): one loader
    batch for all of them, so a level of topics (graph/level_execution.py) reads them at once."""
    limit = page_size(first)
    after_raw = ids.decode_cursor(after)
    cursor = _parse_comment_cursor(after_raw)
    loaders = context.loaders
    pending = [
        loaders.get(COMMENT_PAGE, territory).load((topic, parent, order, cursor, limit + 1))
        for territory, topic, parent in parents
    ]
    pages = []
    for (territory, _, _), page in zip(parents, pending, strict=True):
        rows = await page  # issued together above: one batch
        pages.append(
            connection(
                rows,
                limit,
                sort_key=_comment_cursor,
                node=partial(ForumComment.from_record, territory),
                after=after_raw,
            )
        )
    return pages


async def _replies_of(
    context: Context,
    comments: list[ForumComment],
    first: int | None = None,
    after: str | None = None,
    order_by: CommentOrder = CommentOrder.OLDEST,
) -> list[Connection[ForumComment]]:
    parents = [(c.territory_code, c.topic_key, c.key) for c in comments]
    return await comment_pages(context, parents, order=order_by, first=first, after=after)


async def _comments_of(
    context: Context,
    topics: list[ForumTopic],
    first: int | None = None,
    after: str | None = None,
    order_by: CommentOrder = CommentOrder.OLDEST,
) -> list[Connection[ForumComment]]:
    parents = [(t.territory_code, t.key, None) for t in topics]
    return await comment_pages(context, parents, order=order_by, first=first, after=after)


@strawberry.type(
    description="A comment on a topic, or a reply to a comment (replies nest to any depth). "
    "The text is returned exactly as written, never rendered to HTML."
)
class ForumComment(Node):
    territory_code: strawberry.Private[str]
    key: strawberry.Private[uuid.UUID]
    topic_key: strawberry.Private[uuid.UUID]
    body: str | None = strawberry.field(
        description="The text as written (plain text, not HTML); null once deleted by its "
        "author or hidden by a moderator."
    )
    is_deleted: bool = strawberry.field(description="True once its author deleted it.")
    is_hidden: bool = strawberry.field(description="True while a moderator hides it.")
    depth: int = strawberry.field(description="0 for a comment on the topic, 1 for a reply...")
    parent_id: strawberry.ID | None = strawberry.field(
        description="The comment this replies to; null for a comment on the topic itself."
    )
    author: ForumAuthor | None = strawberry.field(
        description="Who wrote it; null once deleted or hidden."
    )
    created_at: datetime = strawberry.field(description="When it was posted (ISO 8601, UTC).")
    edited_at: datetime | None = strawberry.field(
        description="When its author last edited it; null if never."
    )
    up_votes: int = strawberry.field(description="Up votes.")
    down_votes: int = strawberry.field(description="Down votes.")
    score: int = strawberry.field(description="Up votes minus down votes.")
    reply_count: int = strawberry.field(description="Direct replies.")

    @classmethod
    def from_record(cls, territory_id: str, record: CommentRecord) -> ForumComment:
        gone = record.deleted_at is not None or record.hidden_at is not None
        return cls(
            id=strawberry.ID(ids.encode("ForumComment", territory_id, str(record.id))),
            territory_code=territory_id,
            key=record.id,
            topic_key=record.topic_id,
            body=None if gone else record.body,
            is_deleted=record.deleted_at is not None,
            is_hidden=record.hidden_at is not None,
            depth=record.depth,
            parent_id=(
                None
                if record.parent_id is None
                else strawberry.ID(ids.encode("ForumComment", territory_id, str(record.parent_id)))
            ),
            author=None if gone else ForumAuthor.of(record.author),
            created_at=record.created_at,
            edited_at=record.edited_at,
            up_votes=record.up_votes,
            down_votes=record.down_votes,
            score=record.score,
            reply_count=record.reply_count,
        )

    @strawberry.field(
        description="Direct replies, a page in the order asked for.",
        metadata=batched_by(_replies_of),
    )
    async def replies(
        self,
        info: Info,
        first: First = None,
        after: After = None,
        order_by: Annotated[
            CommentOrder, strawberry.argument(description="The order; OLDEST when omitted.")
        ] = CommentOrder.OLDEST,
    ) -> Connection[ForumComment]:
        (page,) = await _replies_of(info.context, [self], first, after, order_by)
        return page

    @strawberry.field(
        description="Every reply under this comment, at any depth, depth first and oldest first "
        "at each level (at most 500): a whole thread in one read. Use `depth` and `parentId` to "
        "indent."
    )
    async def thread(self, info: Info) -> list[ForumComment]:
        rows = await info.context.loaders.get(THREAD, self.territory_code).load(self.key)
        return [ForumComment.from_record(self.territory_code, r) for r in rows]

    @strawberry.field(
        description="Its earlier versions, oldest first (edits keep them); null unless you "
        "moderate its forum."
    )
    async def revisions(self, info: Info) -> list[ForumRevision] | None:
        found = await comment_in(info, self.territory_code, self.key)
        moderates = found is not None and found[1].standing.moderates
        return await revisions(info, self.territory_code, self.key, moderates)

    @strawberry.field(description="Your vote on it; null when you have not voted.")
    async def viewer_vote(self, info: Info) -> VoteValue | None:
        loader = info.context.loaders.get(MY_VOTE, self.territory_code)
        vote: VoteValue | None = await loader.load(self.key)
        return vote


# --- topics


@strawberry.type(
    description="A topic of a forum: a title, an opening text and its comments. Text is "
    "returned exactly as written, never rendered to HTML."
)
class ForumTopic(Node):
    territory_code: strawberry.Private[str]
    key: strawberry.Private[uuid.UUID]
    forum_key: strawberry.Private[uuid.UUID]
    title: str = strawberry.field(description="One line, at most 200 characters.")
    body: str | None = strawberry.field(
        description="The opening text as written (plain text, not HTML); null while hidden."
    )
    tags: list[str] = strawberry.field(description="Up to 5 lower-case tags (`repair-tips`).")
    author: ForumAuthor = strawberry.field(description="Who opened it.")
    created_at: datetime = strawberry.field(description="When it was opened (ISO 8601, UTC).")
    edited_at: datetime | None = strawberry.field(
        description="When its author last edited it; null if never."
    )
    last_activity_at: datetime = strawberry.field(
        description="When it was opened or last commented on: the listing's order."
    )
    is_closed: bool = strawberry.field(description="Closed topics take no new comments.")
    is_pinned: bool = strawberry.field(description="Pinned topics are listed first.")
    is_hidden: bool = strawberry.field(description="True while a moderator hides it.")
    view_count: int = strawberry.field(description="Times it was opened (`recordForumTopicView`).")
    comment_count: int = strawberry.field(description="Comments and replies, any depth.")

    @classmethod
    def from_record(cls, record: TopicRecord) -> ForumTopic:
        territory_id = record.territory_id
        return cls(
            id=strawberry.ID(ids.encode("ForumTopic", territory_id, str(record.id))),
            territory_code=territory_id,
            key=record.id,
            forum_key=record.forum_id,
            title=record.title,
            body=None if record.hidden_at is not None else record.body,
            tags=list(record.tags),
            author=ForumAuthor.of(record.author),
            created_at=record.created_at,
            edited_at=record.edited_at,
            last_activity_at=record.last_activity_at,
            is_closed=record.is_closed,
            is_pinned=record.is_pinned,
            is_hidden=record.hidden_at is not None,
            view_count=record.view_count,
            comment_count=record.comment_count,
        )

    @strawberry.field(
        description="Its earlier versions, oldest first (edits keep them); null unless you "
        "moderate its forum."
    )
    async def revisions(self, info: Info) -> list[ForumRevision] | None:
        access = await forum_by_id(info, self.territory_code, self.forum_key)
        moderates = access is not None and access.standing.moderates
        return await revisions(info, self.territory_code, self.key, moderates)

    @strawberry.field(description="The forum it is in.")
    async def forum(self, info: Info) -> Annotated[Forum, strawberry.lazy(TREE)] | None:
        access = await forum_by_id(info, self.territory_code, self.forum_key)
        forum: type[Forum] = hub_type(TREE, "Forum")
        return None if access is None else forum.from_access(access)

    @strawberry.field(
        description="Comments on the topic itself (replies are under each comment's `replies` "
        "or `thread`), a page in the order asked for.",
        metadata=batched_by(_comments_of),
    )
    async def comments(
        self,
        info: Info,
        first: First = None,
        after: After = None,
        order_by: Annotated[
            CommentOrder, strawberry.argument(description="The order; OLDEST when omitted.")
        ] = CommentOrder.OLDEST,
    ) -> Connection[ForumComment]:
        (page,) = await _comments_of(info.context, [self], first, after, order_by)
        return page
