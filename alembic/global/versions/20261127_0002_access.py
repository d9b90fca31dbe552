"""Access: one active grant per (identity, role, territory); who revoked a grant.

Revision ID: g0002
Revises: g0001
Create Date: 2026-11-27
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "g0002"
down_revision: str | None = "g0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

S = "global"


def upgrade() -> None:
    op.add_column(
        "role_assignments", sa.Column("revoked_by", sa.LargeBinary(32), nullable=True), schema=S
    )
    op.create_index(
        "uq_role_assignments_active",
        "role_assignments",
        ["identity_hash", "role", sa.text("coalesce(territory_id, '')")],
        unique=True,
        schema=S,
        postgresql_where=sa.text("revoked_at IS NULL"),
    )


def downgrade() -> None:
    op.drop_index("uq_role_assignments_active", "role_assignments", schema=S)
    op.drop_column("role_assignments", "revoked_by", schema=S)
