"""Forums: the forum tree, topics, threaded comments, revisions, votes, flags, strikes,
restrictions and the moderation log.

People are (territory, user id) references without a foreign key: the global territory's forums
hold posts by accounts of every territory.

Revision ID: t0010_forums
Revises: t0009_files
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "t0010_forums"
down_revision: str | None = "t0009_files"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PLACEHOLDER = "territory"
UUID = postgresql.UUID(as_uuid=True)


def _schema() -> str:
    """The real schema (Alembic's index and constraint DDL does not go through the map)."""
    translate = op.get_bind().get_execution_options().get("schema_translate_map") or {}
    return str(translate.get(PLACEHOLDER, PLACEHOLDER))


def _now(name: str, *, nullable: bool = False) -> sa.Column:
    if nullable:
        return sa.Column(name, sa.DateTime(timezone=True), nullable=True)
    return sa.Column(name, sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now())


def _person(prefix: str, *, nullable: bool = False) -> list[sa.Column]:
    return [
        sa.Column(f"{prefix}_territory", sa.String(48), nullable=nullable),
        sa.Column(f"{prefix}_id", UUID, nullable=nullable),
    ]


def _int(name: str) -> sa.Column:
    return sa.Column(name, sa.Integer(), nullable=False, server_default=sa.text("0"))


def upgrade() -> None:
    S = _schema()
    op.create_table(
        "forums",
        sa.Column("id", UUID, nullable=False),
        sa.Column("parent_id", UUID, sa.ForeignKey(f"{S}.forums.id"), nullable=True),
        sa.Column(
            "community_id", UUID, sa.ForeignKey(f"{S}.communities.id", ondelete="CASCADE"),
            nullable=True,
        ),
        _int("position"),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("description", sa.Text(), nullable=False, server_default=""),
        sa.Column("visibility", sa.String(16), nullable=False, server_default="public"),
        sa.Column("is_open", sa.Boolean(), nullable=False, server_default=sa.text("true")),
        sa.Column("read_badges", postgresql.ARRAY(sa.String(100)), nullable=False, server_default="{}"),
        sa.Column("post_badges", postgresql.ARRAY(sa.String(100)), nullable=False, server_default="{}"),
        _now("created_at"),
        sa.PrimaryKeyConstraint("id", name="pk_forums"),
        sa.CheckConstraint(
            "visibility IN ('public', 'moderators')", name="ck_forums_visibility_known"
        ),
        schema=S,
    )
    op.create_index("ix_forums_parent", "forums", ["parent_id", "position", "id"], schema=S)
    op.create_table(
        "forum_topics",
        sa.Column("id", UUID, nullable=False),
        sa.Column(
            "forum_id", UUID, sa.ForeignKey(f"{S}.forums.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        *_person("author"),
        sa.Column("tags", postgresql.ARRAY(sa.String(32)), nullable=False, server_default="{}"),
        _now("created_at"),
        _now("edited_at", nullable=True),
        _now("last_activity_at"),
        sa.Column("is_closed", sa.Boolean(), nullable=False, server_default=sa.text("false")),
        sa.Column("is_pinned", sa.Boolean(), nullable=False, server_default=sa.text("false")),
        _now("hidden_at", nullable=True),
        _int("view_count"),
        _int("comment_count"),
        sa.PrimaryKeyConstraint("id", name="pk_forum_topics"),
        schema=S,
    )
    op.create_index(
        "ix_forum_topics_listing",
        "forum_topics",
        [
            "forum_id",
            sa.text("is_pinned DESC"),
            sa.text("last_activity_at DESC"),
            sa.text("id DESC"),
        ],
        schema=S,
    )
    op.create_table(
        "forum_comments",
        sa.Column("id", UUID, nullable=False),
        sa.Column(
            "topic_id", UUID, sa.ForeignKey(f"{S}.forum_topics.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("parent_id", UUID, sa.ForeignKey(f"{S}.forum_comments.id"), nullable=True),
        sa.Column("path", sa.Text(collation="C"), nullable=False),
        sa.Column("depth", sa.Integer(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        *_person("author"),
        _now("created_at"),
        _now("edited_at", nullable=True),
        _now("deleted_at", nullable=True),
        _now("hidden_at", nullable=True),
        _int("up_votes"),
        _int("down_votes"),
        _int("reply_count"),
        sa.PrimaryKeyConstraint("id", name="pk_forum_comments"),
        schema=S,
    )
    op.create_index(
        "ix_forum_comments_page", "forum_comments", ["topic_id", "parent_id", "id"], schema=S
    )
    op.create_index("ix_forum_comments_path", "forum_comments", ["path"], schema=S)
    op.create_table(
        "forum_revisions",
        sa.Column("id", sa.Integer(), sa.Identity(), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("target_id", UUID, nullable=False),
        sa.Column("title", sa.Text(), nullable=True),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("written_at", sa.DateTime(timezone=True), nullable=False),
        _now("created_at"),
        sa.PrimaryKeyConstraint("id", name="pk_forum_revisions"),
        sa.CheckConstraint("kind IN ('topic', 'comment')", name="ck_forum_revisions_kind_known"),
        schema=S,
    )
    op.create_index("ix_forum_revisions_target", "forum_revisions", ["target_id", "id"], schema=S)
    op.create_table(
        "forum_votes",
        sa.Column(
            "comment_id", UUID, sa.ForeignKey(f"{S}.forum_comments.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("voter_territory", sa.String(48), nullable=False),
        sa.Column("voter_id", UUID, nullable=False),
        sa.Column("value", sa.String(8), nullable=False),
        _now("created_at"),
        sa.PrimaryKeyConstraint(
            "comment_id", "voter_territory", "voter_id", name="pk_forum_votes"
        ),
        sa.CheckConstraint("value IN ('up', 'down')", name="ck_forum_votes_value_known"),
        schema=S,
    )
    op.create_table(
        "forum_flags",
        sa.Column("id", UUID, nullable=False),
        sa.Column(
            "forum_id", UUID, sa.ForeignKey(f"{S}.forums.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("target_id", UUID, nullable=False),
        *_person("flagger"),
        sa.Column("reason", sa.String(16), nullable=False),
        sa.Column("note", sa.Text(), nullable=False, server_default=""),
        _now("created_at"),
        _now("resolved_at", nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_forum_flags"),
        sa.CheckConstraint("kind IN ('topic', 'comment')", name="ck_forum_flags_kind_known"),
        sa.CheckConstraint(
            "reason IN ('off_topic', 'inappropriate', 'spam', 'illegal', 'other')",
            name="ck_forum_flags_reason_known",
        ),
        schema=S,
    )
    op.create_index(
        "ix_forum_flags_open", "forum_flags", ["forum_id", "created_at"], schema=S,
        postgresql_where=sa.text("resolved_at IS NULL"),
    )
    op.create_table(
        "forum_strikes",
        sa.Column("id", UUID, nullable=False),
        *_person("user"),
        *_person("issued_by"),
        sa.Column("reason", sa.Text(), nullable=False, server_default=""),
        _now("created_at"),
        sa.PrimaryKeyConstraint("id", name="pk_forum_strikes"),
        schema=S,
    )
    op.create_index(
        "ix_forum_strikes_user", "forum_strikes", ["user_territory", "user_id", "created_at"],
        schema=S,
    )
    op.create_table(
        "forum_restrictions",
        sa.Column("user_territory", sa.String(48), nullable=False),
        sa.Column("user_id", UUID, nullable=False),
        _now("until", nullable=True),
        _now("created_at"),
        sa.PrimaryKeyConstraint("user_territory", "user_id", name="pk_forum_restrictions"),
        schema=S,
    )
    op.create_table(
        "forum_moderation_log",
        sa.Column("id", UUID, nullable=False),
        sa.Column("forum_id", UUID, nullable=True),
        sa.Column("action", sa.String(24), nullable=False),
        *_person("moderator", nullable=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("target_id", UUID, nullable=False),
        *_person("subject", nullable=True),
        sa.Column("reason", sa.Text(), nullable=False, server_default=""),
        sa.Column("detail", sa.String(32), nullable=True),
        _now("created_at"),
        sa.PrimaryKeyConstraint("id", name="pk_forum_moderation_log"),
        schema=S,
    )
    op.create_index(
        "ix_forum_moderation_log_forum", "forum_moderation_log", ["forum_id", sa.text("id DESC")],
        schema=S,
    )
    op.create_index(
        "ix_forum_moderation_log_subject", "forum_moderation_log",
        ["subject_territory", "subject_id"], schema=S,
    )


def downgrade() -> None:
    S = _schema()
    for table in (
        "forum_moderation_log",
        "forum_restrictions",
        "forum_strikes",
        "forum_flags",
        "forum_votes",
        "forum_revisions",
        "forum_comments",
        "forum_topics",
        "forums",
    ):
        op.drop_table(table, schema=S)
