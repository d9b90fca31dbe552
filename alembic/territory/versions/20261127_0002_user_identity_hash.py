"""Users carry their identity hash, so a session in `global` finds its user in one lookup.

Revision ID: t0002
Revises: t0001
Create Date: 2026-11-27
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "t0002"
down_revision: str | None = "t0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PLACEHOLDER = "territory"


def _schema() -> str:
    """The real schema: Alembic's ALTER statements do not go through schema_translate_map."""
    translate = op.get_bind().get_execution_options().get("schema_translate_map") or {}
    return str(translate.get(PLACEHOLDER, PLACEHOLDER))


def upgrade() -> None:
    S = _schema()
    # Nullable: rows loaded by other paths (imports, fixtures) may lack it; registration always
    # sets it, and an account without one simply cannot hold a session.
    op.add_column(
        "users", sa.Column("identity_hash", sa.LargeBinary(32), nullable=True), schema=S
    )
    op.create_unique_constraint("uq_users_identity_hash", "users", ["identity_hash"], schema=S)


def downgrade() -> None:
    S = _schema()
    op.drop_constraint("uq_users_identity_hash", "users", schema=S)
    op.drop_column("users", "identity_hash", schema=S)
