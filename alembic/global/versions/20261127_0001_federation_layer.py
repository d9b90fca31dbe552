"""Federation layer: territory registry, identity hashes, sessions, roles, audit.

Revision ID: g0001
Revises:
Create Date: 2026-11-27
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "g0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

S = "global"


def _ts(name: str, nullable: bool = False) -> sa.Column:
    return sa.Column(
        name,
        sa.DateTime(timezone=True),
        nullable=nullable,
        server_default=None if nullable else sa.func.now(),
    )


def upgrade() -> None:
    op.create_table(
        "territories",
        sa.Column("id", sa.String(48), primary_key=True),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("parent_id", sa.String(48), sa.ForeignKey(f"{S}.territories.id"), nullable=True),
        sa.Column("db_server", sa.String(64), nullable=False),
        sa.Column("status", sa.String(16), nullable=False, server_default="provisioning"),
        _ts("created_at"),
        _ts("updated_at"),
        sa.CheckConstraint(
            "kind IN ('global', 'country', 'first_nation', 'community')",
            name="ck_territories_kind_known",
        ),
        sa.CheckConstraint(
            "status IN ('provisioning', 'active', 'suspended')", name="ck_territories_status_known"
        ),
        sa.CheckConstraint(
            "id ~ '^(global|[a-z]{2}|fn_[a-z0-9]+(_[a-z0-9]+)*|c_[a-z0-9]+(_[a-z0-9]+)*)$' "
            "AND length(id) <= 48",
            name="ck_territories_id_format",
        ),
        schema=S,
    )
    op.create_table(
        "user_identities",
        sa.Column("identity_hash", sa.LargeBinary(32), primary_key=True),
        sa.Column(
            "territory_id", sa.String(48), sa.ForeignKey(f"{S}.territories.id"), nullable=False
        ),
        _ts("created_at"),
        schema=S,
    )
    op.create_table(
        "sessions",
        sa.Column("id", postgresql.UUID(as_uuid=True), primary_key=True),
        sa.Column(
            "identity_hash",
            sa.LargeBinary(32),
            sa.ForeignKey(f"{S}.user_identities.identity_hash", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("family_id", postgresql.UUID(as_uuid=True), nullable=False),
        sa.Column("refresh_token_hash", sa.LargeBinary(32), nullable=False, unique=True),
        _ts("created_at"),
        _ts("expires_at"),
        _ts("rotated_at", nullable=True),
        _ts("revoked_at", nullable=True),
        schema=S,
    )
    op.alter_column("sessions", "expires_at", server_default=None, schema=S)
    op.create_index("ix_sessions_identity_hash", "sessions", ["identity_hash"], schema=S)
    op.create_index("ix_sessions_family_id", "sessions", ["family_id"], schema=S)
    op.create_table(
        "audit_log",
        sa.Column("id", sa.BigInteger(), primary_key=True, autoincrement=True),
        _ts("occurred_at"),
        sa.Column("action", sa.String(64), nullable=False),
        sa.Column("actor_identity_hash", sa.LargeBinary(32), nullable=True),
        sa.Column("territory_id", sa.String(48), nullable=True),
        sa.Column("target", sa.Text(), nullable=True),
        sa.Column(
            "details", postgresql.JSONB(), nullable=False, server_default=sa.text("'{}'::jsonb")
        ),
        schema=S,
    )
    op.create_index("ix_audit_log_occurred_at", "audit_log", ["occurred_at"], schema=S)
    op.create_table(
        "territory_managers",
        sa.Column(
            "identity_hash",
            sa.LargeBinary(32),
            sa.ForeignKey(f"{S}.user_identities.identity_hash", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column(
            "territory_id", sa.String(48), sa.ForeignKey(f"{S}.territories.id"), primary_key=True
        ),
        sa.Column("granted_by", sa.LargeBinary(32), nullable=True),
        _ts("created_at"),
        schema=S,
    )
    op.create_table(
        "role_assignments",
        sa.Column("id", sa.BigInteger(), primary_key=True, autoincrement=True),
        sa.Column(
            "identity_hash",
            sa.LargeBinary(32),
            sa.ForeignKey(f"{S}.user_identities.identity_hash", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("role", sa.String(32), nullable=False),
        sa.Column(
            "territory_id", sa.String(48), sa.ForeignKey(f"{S}.territories.id"), nullable=True
        ),
        sa.Column("granted_by", sa.LargeBinary(32), nullable=True),
        _ts("created_at"),
        _ts("revoked_at", nullable=True),
        sa.CheckConstraint(
            "role IN ('global_admin', 'territory_manager', 'moderator', 'content_creator', "
            "'member')",
            name="ck_role_assignments_role_known",
        ),
        schema=S,
    )


def downgrade() -> None:
    for table in (
        "role_assignments",
        "territory_managers",
        "audit_log",
        "sessions",
        "user_identities",
        "territories",
    ):
        op.drop_table(table, schema=S)
