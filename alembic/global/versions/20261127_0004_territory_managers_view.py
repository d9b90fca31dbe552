"""territory_managers becomes a view over role_assignments: one home for every role grant.

Manager grants are role_assignments rows (role 'territory_manager', one per territory, revocable
and audited like every role); a separate table would be a second, drifting copy. The view keeps
the name for operators and reports.

Revision ID: g0004
Revises: g0003
Create Date: 2026-11-27
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "g0004"
down_revision: str | None = "g0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.drop_table("territory_managers", schema="global")
    op.execute(
        "CREATE VIEW global.territory_managers AS "
        "SELECT identity_hash, territory_id, granted_by, created_at "
        "FROM global.role_assignments "
        "WHERE role = 'territory_manager' AND revoked_at IS NULL"
    )


def downgrade() -> None:
    op.execute("DROP VIEW global.territory_managers")
    op.create_table(
        "territory_managers",
        sa.Column("identity_hash", sa.LargeBinary(32), primary_key=True),
        sa.Column("territory_id", sa.String(48), primary_key=True),
        sa.Column("granted_by", sa.LargeBinary(32), nullable=True),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
        schema="global",
    )
