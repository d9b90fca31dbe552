"""Territory template: users, invitations, communities, settings.

Revision ID: t0001
Revises:
Create Date: 2026-11-27
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "t0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Placeholder: the runner's schema_translate_map renders it as territory_<id>.
S = "territory"
UUID = postgresql.UUID(as_uuid=True)


def _ts(name: str, nullable: bool = False) -> sa.Column:
    return sa.Column(
        name,
        sa.DateTime(timezone=True),
        nullable=nullable,
        server_default=None if nullable else sa.func.now(),
    )


def upgrade() -> None:
    op.create_table(
        "users",
        sa.Column("id", UUID, primary_key=True),
        sa.Column("username", sa.String(64), nullable=False),
        sa.Column("email", sa.String(320), nullable=False),
        sa.Column("password_hash", sa.Text(), nullable=False),
        sa.Column("display_name", sa.String(128), nullable=False),
        sa.Column("status", sa.String(16), nullable=False, server_default="active"),
        _ts("created_at"),
        _ts("updated_at"),
        schema=S,
    )
    op.create_index(
        "uq_users_username_lower", "users", [sa.text("lower(username)")], unique=True, schema=S
    )
    op.create_index(
        "uq_users_email_lower", "users", [sa.text("lower(email)")], unique=True, schema=S
    )
    op.create_table(
        "invitation_tokens",
        sa.Column("id", UUID, primary_key=True),
        sa.Column("token_hash", sa.LargeBinary(32), nullable=False, unique=True),
        sa.Column("email", sa.String(320), nullable=True),
        sa.Column("max_uses", sa.Integer(), nullable=False, server_default="1"),
        sa.Column("use_count", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("role", sa.String(32), nullable=False, server_default="member"),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        _ts("revoked_at", nullable=True),
        sa.Column("created_by", UUID, sa.ForeignKey(f"{S}.users.id"), nullable=True),
        _ts("created_at"),
        sa.CheckConstraint(
            "max_uses >= 1 AND use_count >= 0 AND use_count <= max_uses",
            name="ck_invitation_tokens_uses",
        ),
        schema=S,
    )
    op.create_table(
        "invitation_uses",
        sa.Column("id", UUID, primary_key=True),
        sa.Column(
            "invitation_id", UUID, sa.ForeignKey(f"{S}.invitation_tokens.id"), nullable=False
        ),
        sa.Column("user_id", UUID, sa.ForeignKey(f"{S}.users.id"), nullable=False),
        _ts("used_at"),
        sa.UniqueConstraint(
            "invitation_id", "user_id", name="uq_invitation_uses_invitation_user"
        ),
        schema=S,
    )
    op.create_table(
        "communities",
        sa.Column("id", UUID, primary_key=True),
        sa.Column("slug", sa.String(64), nullable=False, unique=True),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("description", sa.Text(), nullable=False, server_default=""),
        sa.Column("is_public", sa.Boolean(), nullable=False, server_default=sa.text("true")),
        sa.Column("created_by", UUID, sa.ForeignKey(f"{S}.users.id"), nullable=True),
        _ts("created_at"),
        _ts("updated_at"),
        sa.CheckConstraint("slug ~ '^[a-z0-9]+(-[a-z0-9]+)*$'", name="ck_communities_slug_format"),
        schema=S,
    )
    op.create_table(
        "settings",
        sa.Column("key", sa.String(128), primary_key=True),
        sa.Column("value", postgresql.JSONB(), nullable=False),
        _ts("updated_at"),
        schema=S,
    )


def downgrade() -> None:
    for table in ("settings", "communities", "invitation_uses", "invitation_tokens", "users"):
        op.drop_table(table, schema=S)
