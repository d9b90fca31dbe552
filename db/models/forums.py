"""Forums of a territory: the forum tree, topics, threaded comments, votes and moderation.

People are referred to as (territory, user id) pairs without a foreign key: a forum of the
``global`` territory holds posts by accounts of every territory, and their data stays in their
own territory's schema (read through its loaders). Rows never copy a person's name or profile.
"""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Column,
    DateTime,
    ForeignKey,
    Identity,
    Index,
    Integer,
    String,
    Table,
    Text,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, UUID

from db.models.base import created_at, territory_metadata


def _person(prefix: str, *, nullable: bool = False) -> list[Column[object]]:
    return [
        Column(f"{prefix}_territory", String(48), nullable=nullable),
        Column(f"{prefix}_id", UUID(as_uuid=True), nullable=nullable),
    ]


forums = Table(
    "forums",
    territory_metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("parent_id", UUID(as_uuid=True), ForeignKey("territory.forums.id"), nullable=True),
    Column(
        "community_id",
        UUID(as_uuid=True),
        ForeignKey("territory.communities.id", ondelete="CASCADE"),
        nullable=True,
    ),
    Column("position", Integer, nullable=False, server_default=text("0")),
    Column("name", Text, nullable=False),
    Column("description", Text, nullable=False, server_default=""),
    Column("visibility", String(16), nullable=False, server_default="public"),
    Column("is_open", Boolean, nullable=False, server_default=text("true")),
    # Badges as "<home>/<uuid>" (home: `global` or the defining territory).
    Column("read_badges", ARRAY(String(100)), nullable=False, server_default="{}"),
    Column("post_badges", ARRAY(String(100)), nullable=False, server_default="{}"),
    created_at(),
    CheckConstraint("visibility IN ('public', 'moderators')", name="visibility_known"),
    Index("ix_forums_parent", "parent_id", "position", "id"),
)

forum_topics = Table(
    "forum_topics",
    territory_metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column(
        "forum_id",
        UUID(as_uuid=True),
        ForeignKey("territory.forums.id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("title", Text, nullable=False),
    Column("body", Text, nullable=False),
    *_person("author"),
    Column("tags", ARRAY(String(32)), nullable=False, server_default="{}"),
    created_at(),
    Column("edited_at", DateTime(timezone=True), nullable=True),
    Column("last_activity_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("is_closed", Boolean, nullable=False, server_default=text("false")),
    Column("is_pinned", Boolean, nullable=False, server_default=text("false")),
    Column("hidden_at", DateTime(timezone=True), nullable=True),
    Column("view_count", Integer, nullable=False, server_default=text("0")),
    Column("comment_count", Integer, nullable=False, server_default=text("0")),
    # The listing order: pinned first, then the latest activity (keyset on these and id).
    Index(
        "ix_forum_topics_listing",
        "forum_id",
        text("is_pinned DESC"),
        text("last_activity_at DESC"),
        text("id DESC"),
    ),
)

forum_comments = Table(
    "forum_comments",
    territory_metadata,
    # UUIDv7: time-ordered, so the materialized path sorts a thread depth-first by time.
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column(
        "topic_id",
        UUID(as_uuid=True),
        ForeignKey("territory.forum_topics.id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("parent_id", UUID(as_uuid=True), ForeignKey("territory.forum_comments.id")),
    # Ancestors' ids and its own (hex), joined by '/': a whole thread is one range of paths
    # (byte order, so the range and its index agree whatever the database's collation).
    Column("path", Text(collation="C"), nullable=False),
    Column("depth", Integer, nullable=False),
    Column("body", Text, nullable=False),
    *_person("author"),
    created_at(),
    Column("edited_at", DateTime(timezone=True), nullable=True),
    Column("deleted_at", DateTime(timezone=True), nullable=True),
    Column("hidden_at", DateTime(timezone=True), nullable=True),
    Column("up_votes", Integer, nullable=False, server_default=text("0")),
    Column("down_votes", Integer, nullable=False, server_default=text("0")),
    Column("reply_count", Integer, nullable=False, server_default=text("0")),
    Index("ix_forum_comments_page", "topic_id", "parent_id", "id"),
    Index("ix_forum_comments_path", "path"),
)

forum_revisions = Table(
    "forum_revisions",
    territory_metadata,
    Column("id", Integer, Identity(), primary_key=True),
    Column("kind", String(16), nullable=False),
    Column("target_id", UUID(as_uuid=True), nullable=False),
    Column("title", Text, nullable=True),
    Column("body", Text, nullable=False),
    Column("written_at", DateTime(timezone=True), nullable=False),
    created_at(),
    CheckConstraint("kind IN ('topic', 'comment')", name="kind_known"),
    Index("ix_forum_revisions_target", "target_id", "id"),
)

forum_votes = Table(
    "forum_votes",
    territory_metadata,
    Column(
        "comment_id",
        UUID(as_uuid=True),
        ForeignKey("territory.forum_comments.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("voter_territory", String(48), primary_key=True),
    Column("voter_id", UUID(as_uuid=True), primary_key=True),
    Column("value", String(8), nullable=False),
    created_at(),
    CheckConstraint("value IN ('up', 'down')", name="value_known"),
)

forum_flags = Table(
    "forum_flags",
    territory_metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column(
        "forum_id",
        UUID(as_uuid=True),
        ForeignKey("territory.forums.id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("kind", String(16), nullable=False),
    Column("target_id", UUID(as_uuid=True), nullable=False),
    *_person("flagger"),
    Column("reason", String(16), nullable=False),
    Column("note", Text, nullable=False, server_default=""),
    created_at(),
    Column("resolved_at", DateTime(timezone=True), nullable=True),
    CheckConstraint("kind IN ('topic', 'comment')", name="kind_known"),
    CheckConstraint(
        "reason IN ('off_topic', 'inappropriate', 'spam', 'illegal', 'other')", name="reason_known"
    ),
    Index(
        "ix_forum_flags_open",
        "forum_id",
        "created_at",
        postgresql_where=text("resolved_at IS NULL"),
    ),
)

forum_strikes = Table(
    "forum_strikes",
    territory_metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    *_person("user"),
    *_person("issued_by"),
    Column("reason", Text, nullable=False, server_default=""),
    created_at(),
    Index("ix_forum_strikes_user", "user_territory", "user_id", "created_at"),
)

forum_restrictions = Table(
    "forum_restrictions",
    territory_metadata,
    Column("user_territory", String(48), primary_key=True),
    Column("user_id", UUID(as_uuid=True), primary_key=True),
    Column("until", DateTime(timezone=True), nullable=True),
    created_at(),
)

forum_moderation_log = Table(
    "forum_moderation_log",
    territory_metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("forum_id", UUID(as_uuid=True), nullable=True),
    Column("action", String(24), nullable=False),
    *_person("moderator", nullable=True),
    Column("kind", String(16), nullable=False),
    Column("target_id", UUID(as_uuid=True), nullable=False),
    *_person("subject", nullable=True),
    Column("reason", Text, nullable=False, server_default=""),
    Column("detail", String(32), nullable=True),
    created_at(),
    Index("ix_forum_moderation_log_forum", "forum_id", text("id DESC")),
    Index("ix_forum_moderation_log_subject", "subject_territory", "subject_id"),
)
