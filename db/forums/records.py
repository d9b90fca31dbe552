"""What forum reads return: plain records built from rows selected with the column lists here.

Topics and comments are named tuples, not frozen dataclasses: as immutable, but built in C. A
forum page reads thousands of them, and a frozen dataclass's ``__init__`` sets each field through
``object.__setattr__`` (1.6 us for 14 fields against 0.4 us for a named tuple).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import NamedTuple

from db.models import forum_comments, forum_topics, forums
from domain.badges import BadgeRef
from domain.forums import Author, ForumFacts, ForumVisibility, level_of


@dataclass(frozen=True, slots=True)
class ForumRecord:
    id: uuid.UUID
    territory_id: str
    parent_id: uuid.UUID | None
    community_id: uuid.UUID | None
    position: int
    name: str
    description: str
    visibility: ForumVisibility
    is_open: bool
    read_badges: tuple[BadgeRef, ...]
    post_badges: tuple[BadgeRef, ...]
    created_at: datetime

    @property
    def facts(self) -> ForumFacts:
        return ForumFacts(
            territory_id=self.territory_id,
            level=level_of(self.territory_id, self.community_id),
            community_id=self.community_id,
            visibility=self.visibility,
            is_open=self.is_open,
            read_badges=self.read_badges,
            post_badges=self.post_badges,
        )


class TopicRecord(NamedTuple):
    id: uuid.UUID
    territory_id: str
    forum_id: uuid.UUID
    title: str
    body: str
    author: Author
    tags: tuple[str, ...]
    created_at: datetime
    edited_at: datetime | None
    last_activity_at: datetime
    is_closed: bool
    is_pinned: bool
    hidden_at: datetime | None
    view_count: int
    comment_count: int


class CommentRecord(NamedTuple):
    id: uuid.UUID
    topic_id: uuid.UUID
    parent_id: uuid.UUID | None
    path: str
    depth: int
    body: str
    author: Author
    created_at: datetime
    edited_at: datetime | None
    deleted_at: datetime | None
    hidden_at: datetime | None
    up_votes: int
    down_votes: int
    reply_count: int

    @property
    def score(self) -> int:
        return self.up_votes - self.down_votes


FORUM_COLUMNS = (
    forums.c.id,
    forums.c.parent_id,
    forums.c.community_id,
    forums.c.position,
    forums.c.name,
    forums.c.description,
    forums.c.visibility,
    forums.c.is_open,
    forums.c.read_badges,
    forums.c.post_badges,
    forums.c.created_at,
)

TOPIC_COLUMNS = (
    forum_topics.c.id,
    forum_topics.c.forum_id,
    forum_topics.c.title,
    forum_topics.c.body,
    forum_topics.c.author_territory,
    forum_topics.c.author_id,
    forum_topics.c.tags,
    forum_topics.c.created_at,
    forum_topics.c.edited_at,
    forum_topics.c.last_activity_at,
    forum_topics.c.is_closed,
    forum_topics.c.is_pinned,
    forum_topics.c.hidden_at,
    forum_topics.c.view_count,
    forum_topics.c.comment_count,
)

COMMENT_COLUMNS = (
    forum_comments.c.id,
    forum_comments.c.topic_id,
    forum_comments.c.parent_id,
    forum_comments.c.path,
    forum_comments.c.depth,
    forum_comments.c.body,
    forum_comments.c.author_territory,
    forum_comments.c.author_id,
    forum_comments.c.created_at,
    forum_comments.c.edited_at,
    forum_comments.c.deleted_at,
    forum_comments.c.hidden_at,
    forum_comments.c.up_votes,
    forum_comments.c.down_votes,
    forum_comments.c.reply_count,
)


def forum(territory_id: str, row: Sequence[object]) -> ForumRecord:
    """A row selected with ``FORUM_COLUMNS`` (first, in that order)."""
    return ForumRecord(
        row[0],  # type: ignore[arg-type]
        territory_id,
        row[1],  # type: ignore[arg-type]
        row[2],  # type: ignore[arg-type]
        int(row[3]),  # type: ignore[call-overload]
        str(row[4]),
        str(row[5]),
        ForumVisibility(str(row[6])),
        bool(row[7]),
        badge_refs(row[8]),  # type: ignore[arg-type]
        badge_refs(row[9]),  # type: ignore[arg-type]
        row[10],  # type: ignore[arg-type]
    )


def badge_refs(values: Sequence[str]) -> tuple[BadgeRef, ...]:
    """Stored "<home>/<uuid>" strings as references."""
    refs = []
    for value in values:
        home, _, key = value.partition("/")
        refs.append(BadgeRef(home, uuid.UUID(key)))
    return tuple(refs)


def stored_refs(refs: Sequence[BadgeRef]) -> list[str]:
    return [f"{ref.home}/{ref.id}" for ref in refs]


def topic(territory_id: str, row: Sequence[object]) -> TopicRecord:
    """A row selected with ``TOPIC_COLUMNS`` (first, in that order)."""
    return TopicRecord(
        row[0],  # type: ignore[arg-type]
        territory_id,
        row[1],  # type: ignore[arg-type]
        row[2],  # type: ignore[arg-type]
        row[3],  # type: ignore[arg-type]
        (row[4], row[5]),  # type: ignore[arg-type]
        tuple(row[6]),  # type: ignore[arg-type]
        row[7],  # type: ignore[arg-type]
        row[8],  # type: ignore[arg-type]
        row[9],  # type: ignore[arg-type]
        row[10],  # type: ignore[arg-type]
        row[11],  # type: ignore[arg-type]
        row[12],  # type: ignore[arg-type]
        row[13],  # type: ignore[arg-type]
        row[14],  # type: ignore[arg-type]
    )


def comment(row: Sequence[object]) -> CommentRecord:
    """A row selected with ``COMMENT_COLUMNS`` (first, in that order)."""
    return CommentRecord(
        row[0],  # type: ignore[arg-type]
        row[1],  # type: ignore[arg-type]
        row[2],  # type: ignore[arg-type]
        row[3],  # type: ignore[arg-type]
        row[4],  # type: ignore[arg-type]
        row[5],  # type: ignore[arg-type]
        (row[6], row[7]),  # type: ignore[arg-type]
        row[8],  # type: ignore[arg-type]
        row[9],  # type: ignore[arg-type]
        row[10],  # type: ignore[arg-type]
        row[11],  # type: ignore[arg-type]
        row[12],  # type: ignore[arg-type]
        row[13],  # type: ignore[arg-type]
        row[14],  # type: ignore[arg-type]
    )
