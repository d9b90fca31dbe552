"""Forum, topic, comment and vote writes, inside a mutation's transaction (``territory_change``).

A write locks the row it changes first (``lock_*``), so concurrent edits, votes and counters of
one topic or comment serialise. Edits keep the previous text in ``forum_revisions`` (moderators
read the history).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncConnection

from db.forums.records import (
    COMMENT_COLUMNS,
    FORUM_COLUMNS,
    TOPIC_COLUMNS,
    CommentRecord,
    ForumRecord,
    TopicRecord,
    comment,
    forum,
    stored_refs,
    topic,
)
from db.models import forum_comments, forum_revisions, forum_topics, forum_votes, forums
from domain.badges import BadgeRef
from domain.events import new_event_id
from domain.forums import Author, ContentKind, ForumVisibility, VoteValue, vote_delta


async def lock_forum(
    conn: AsyncConnection, territory_id: str, forum_id: uuid.UUID
) -> ForumRecord | None:
    row = (
        await conn.execute(select(*FORUM_COLUMNS).where(forums.c.id == forum_id).with_for_update())
    ).first()
    return None if row is None else forum(territory_id, row)


async def lock_topic(
    conn: AsyncConnection, territory_id: str, topic_id: uuid.UUID
) -> TopicRecord | None:
    query = select(*TOPIC_COLUMNS).where(forum_topics.c.id == topic_id).with_for_update()
    row = (await conn.execute(query)).first()
    return None if row is None else topic(territory_id, row)


async def lock_comment(conn: AsyncConnection, comment_id: uuid.UUID) -> CommentRecord | None:
    query = select(*COMMENT_COLUMNS).where(forum_comments.c.id == comment_id).with_for_update()
    row = (await conn.execute(query)).first()
    return None if row is None else comment(row)


async def create_forum(
    conn: AsyncConnection,
    territory_id: str,
    *,
    parent_id: uuid.UUID | None,
    community_id: uuid.UUID | None,
    name: str,
    description: str,
    visibility: ForumVisibility,
    is_open: bool,
    read_badges: Sequence[BadgeRef],
    post_badges: Sequence[BadgeRef],
    position: int,
) -> ForumRecord:
    row = (
        await conn.execute(
            forums.insert()
            .values(
                id=uuid.uuid4(),
                parent_id=parent_id,
                community_id=community_id,
                name=name,
                description=description,
                visibility=visibility.value,
                is_open=is_open,
                read_badges=stored_refs(read_badges),
                post_badges=stored_refs(post_badges),
                position=position,
            )
            .returning(*FORUM_COLUMNS)
        )
    ).one()
    return forum(territory_id, row)


async def set_forum_open(
    conn: AsyncConnection, territory_id: str, forum_id: uuid.UUID, is_open: bool
) -> ForumRecord:
    query = (
        update(forums)
        .where(forums.c.id == forum_id)
        .values(is_open=is_open)
        .returning(*FORUM_COLUMNS)
    )
    return forum(territory_id, (await conn.execute(query)).one())


async def create_topic(
    conn: AsyncConnection,
    territory_id: str,
    *,
    forum_id: uuid.UUID,
    title: str,
    body: str,
    author: Author,
    tags: Sequence[str],
) -> TopicRecord:
    row = (
        await conn.execute(
            forum_topics.insert()
            .values(
                id=new_event_id(),
                forum_id=forum_id,
                title=title,
                body=body,
                author_territory=author[0],
                author_id=author[1],
                tags=list(tags),
            )
            .returning(*TOPIC_COLUMNS)
        )
    ).one()
    return topic(territory_id, row)


async def _keep_revision(
    conn: AsyncConnection,
    *,
    kind: ContentKind,
    target: uuid.UUID,
    title: str | None,
    body: str,
    written_at: datetime,
) -> None:
    await conn.execute(
        forum_revisions.insert().values(
            kind=kind.value, target_id=target, title=title, body=body, written_at=written_at
        )
    )


async def edit_topic(
    conn: AsyncConnection,
    record: TopicRecord,
    *,
    title: str,
    body: str,
    tags: Sequence[str],
) -> TopicRecord:
    """Keep the current title and body as a revision, then write the new ones."""
    await _keep_revision(
        conn,
        kind=ContentKind.TOPIC,
        target=record.id,
        title=record.title,
        body=record.body,
        written_at=record.edited_at or record.created_at,
    )
    query = (
        update(forum_topics)
        .where(forum_topics.c.id == record.id)
        .values(title=title, body=body, tags=list(tags), edited_at=func.now())
        .returning(*TOPIC_COLUMNS)
    )
    return topic(record.territory_id, (await conn.execute(query)).one())


async def set_topic(
    conn: AsyncConnection,
    territory_id: str,
    topic_id: uuid.UUID,
    **values: bool | datetime | None,
) -> TopicRecord:
    """Set ``is_closed``, ``is_pinned`` or ``hidden_at``."""
    query = (
        update(forum_topics)
        .where(forum_topics.c.id == topic_id)
        .values(**values)
        .returning(*TOPIC_COLUMNS)
    )
    return topic(territory_id, (await conn.execute(query)).one())


async def record_view(conn: AsyncConnection, territory_id: str, topic_id: uuid.UUID) -> int:
    query = (
        update(forum_topics)
        .where(forum_topics.c.id == topic_id)
        .values(view_count=forum_topics.c.view_count + 1)
        .returning(forum_topics.c.view_count)
    )
    return int((await conn.execute(query)).scalar_one())


async def add_comment(
    conn: AsyncConnection,
    *,
    topic_id: uuid.UUID,
    parent: CommentRecord | None,
    body: str,
    author: Author,
) -> CommentRecord:
    """A comment (a reply when ``parent`` is given); the topic's comment count and last
    activity and the parent's reply count follow in the same transaction."""
    comment_id = new_event_id()
    path = comment_id.hex if parent is None else f"{parent.path}/{comment_id.hex}"
    row = (
        await conn.execute(
            forum_comments.insert()
            .values(
                id=comment_id,
                topic_id=topic_id,
                parent_id=None if parent is None else parent.id,
                path=path,
                depth=0 if parent is None else parent.depth + 1,
                body=body,
                author_territory=author[0],
                author_id=author[1],
            )
            .returning(*COMMENT_COLUMNS)
        )
    ).one()
    await conn.execute(
        update(forum_topics)
        .where(forum_topics.c.id == topic_id)
        .values(
            comment_count=forum_topics.c.comment_count + 1,
            last_activity_at=func.now(),
        )
    )
    if parent is not None:
        await conn.execute(
            update(forum_comments)
            .where(forum_comments.c.id == parent.id)
            .values(reply_count=forum_comments.c.reply_count + 1)
        )
    return comment(row)


async def edit_comment(conn: AsyncConnection, record: CommentRecord, body: str) -> CommentRecord:
    await _keep_revision(
        conn,
        kind=ContentKind.COMMENT,
        target=record.id,
        title=None,
        body=record.body,
        written_at=record.edited_at or record.created_at,
    )
    query = (
        update(forum_comments)
        .where(forum_comments.c.id == record.id)
        .values(body=body, edited_at=func.now())
        .returning(*COMMENT_COLUMNS)
    )
    return comment((await conn.execute(query)).one())


async def set_comment(
    conn: AsyncConnection, comment_id: uuid.UUID, **values: datetime | None
) -> CommentRecord:
    """Set ``deleted_at`` or ``hidden_at`` (soft: the thread keeps its shape)."""
    query = (
        update(forum_comments)
        .where(forum_comments.c.id == comment_id)
        .values(**values)
        .returning(*COMMENT_COLUMNS)
    )
    return comment((await conn.execute(query)).one())


async def vote(
    conn: AsyncConnection, comment_id: uuid.UUID, voter: Author, value: VoteValue | None
) -> tuple[VoteValue | None, CommentRecord]:
    """Set, change or retract (``None``) the voter's vote; the comment (locked by the caller)
    keeps its counts in step. Returns the previous vote and the comment."""
    key = (
        forum_votes.c.comment_id == comment_id,
        forum_votes.c.voter_territory == voter[0],
        forum_votes.c.voter_id == voter[1],
    )
    found = (await conn.execute(select(forum_votes.c.value).where(*key))).scalar()
    previous = None if found is None else VoteValue(str(found))
    if value is None:
        await conn.execute(forum_votes.delete().where(*key))
    else:
        await conn.execute(
            pg_insert(forum_votes)
            .values(comment_id=comment_id, voter_territory=voter[0], voter_id=voter[1], value=value)
            .on_conflict_do_update(
                index_elements=["comment_id", "voter_territory", "voter_id"],
                set_={"value": value.value},
            )
        )
    up, down = vote_delta(previous, value)
    query = (
        update(forum_comments)
        .where(forum_comments.c.id == comment_id)
        .values(
            up_votes=forum_comments.c.up_votes + up, down_votes=forum_comments.c.down_votes + down
        )
        .returning(*COMMENT_COLUMNS)
    )
    return previous, comment((await conn.execute(query)).one())
