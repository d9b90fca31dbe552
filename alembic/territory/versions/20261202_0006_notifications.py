"""Notifications: one row per (recipient, event), stored by the notifications consumer.

Revision ID: t0006_notifications
Revises: t0005
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "t0006_notifications"
down_revision: str | None = "t0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PLACEHOLDER = "territory"


def _schema() -> str:
    """The real schema (Alembic's constraint and index DDL does not go through the map)."""
    translate = op.get_bind().get_execution_options().get("schema_translate_map") or {}
    return str(translate.get(PLACEHOLDER, PLACEHOLDER))


def upgrade() -> None:
    S = _schema()
    op.create_table(
        "notifications",
        sa.Column("id", postgresql.UUID(as_uuid=True), nullable=False),
        sa.Column("user_id", postgresql.UUID(as_uuid=True), nullable=False),
        sa.Column("event_id", postgresql.UUID(as_uuid=True), nullable=False),
        sa.Column("kind", sa.String(64), nullable=False),
        sa.Column("subject", sa.String(200), nullable=False),
        sa.Column("actor", sa.String(200), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.Column("read_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("push_after", sa.DateTime(timezone=True), nullable=True),
        sa.Column("pushed_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_notifications"),
        sa.ForeignKeyConstraint(
            ["user_id"], [f"{S}.users.id"], name="fk_notifications_user_id_users", ondelete="CASCADE"
        ),
        sa.UniqueConstraint("user_id", "event_id", name="uq_notifications_user_event"),
        schema=S,
    )
    op.create_index("ix_notifications_user_id", "notifications", ["user_id", "id"], schema=S)
    op.create_index(
        "ix_notifications_unread", "notifications", ["user_id", "id"], schema=S,
        postgresql_where=sa.text("read_at IS NULL"),
    )
    op.create_index(
        "ix_notifications_push_due", "notifications", ["push_after"], schema=S,
        postgresql_where=sa.text("pushed_at IS NULL AND push_after IS NOT NULL"),
    )


def downgrade() -> None:
    op.drop_table("notifications", schema=_schema())
