"""Open Badges 3.0 credentials: the territory issuer's Ed25519 keys and its revocation status list.

``credential_issuer_keys`` holds the issuer's keys (private seed, public key, created, retired);
at most one is active. ``credential_statuses`` gives each badge award a bit in one of the
territory's Bitstring Status Lists (131,072 bits each) and says whether it is revoked.

Revision ID: t0008_credentials
Revises: t0005
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "t0008_credentials"
down_revision: str | None = "t0007_badges"
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
        "credential_issuer_keys",
        sa.Column("kid", sa.String(32), nullable=False),
        sa.Column("private_key", sa.LargeBinary(32), nullable=False),
        sa.Column("public_key", sa.LargeBinary(32), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.Column("retired_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("kid", name="pk_credential_issuer_keys"),
        schema=S,
    )
    op.create_index(
        "ix_credential_issuer_keys_active", "credential_issuer_keys", [sa.text("(retired_at IS NULL)")],
        unique=True, schema=S, postgresql_where=sa.text("retired_at IS NULL"),
    )
    op.create_table(
        "credential_statuses",
        sa.Column("award_id", postgresql.UUID(as_uuid=True), nullable=False),
        sa.Column("list_no", sa.Integer(), nullable=False),
        sa.Column("status_index", sa.Integer(), nullable=False),
        sa.Column("revoked", sa.Boolean(), nullable=False, server_default=sa.text("false")),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.PrimaryKeyConstraint("award_id", name="pk_credential_statuses"),
        sa.UniqueConstraint("list_no", "status_index", name="uq_credential_statuses_list_index"),
        sa.CheckConstraint(
            "list_no >= 1 AND status_index >= 0 AND status_index < 131072",
            name="ck_credential_statuses_position",
        ),
        schema=S,
    )


def downgrade() -> None:
    op.drop_table("credential_statuses", schema=_schema())
    op.drop_table("credential_issuer_keys", schema=_schema())
