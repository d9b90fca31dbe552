"""Files on IPFS: uploaded files (and image variants) and the objects referencing them.

Revision ID: t0009_files
Revises: t0008_credentials
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "t0009_files"
down_revision: str | None = "t0008_credentials"
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
        "files",
        sa.Column("id", postgresql.UUID(as_uuid=True), primary_key=True),
        sa.Column(
            "owner_id",
            postgresql.UUID(as_uuid=True),
            sa.ForeignKey(f"{S}.users.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("purpose", sa.String(32), nullable=False),
        sa.Column("cid", sa.String(128), nullable=False),
        sa.Column("media_type", sa.String(100), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("filename", sa.Text(), nullable=False),
        sa.Column("width", sa.Integer(), nullable=True),
        sa.Column("height", sa.Integer(), nullable=True),
        sa.Column(
            "variant_of",
            postgresql.UUID(as_uuid=True),
            sa.ForeignKey(f"{S}.files.id", ondelete="CASCADE"),
            nullable=True,
        ),
        sa.Column("variant", sa.String(16), nullable=True),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
        schema=S,
    )
    op.create_index(
        "uq_files_owner_purpose_cid",
        "files",
        ["owner_id", "purpose", "cid"],
        unique=True,
        schema=S,
        postgresql_where=sa.text("variant_of IS NULL"),
    )
    op.create_index("uq_files_variant", "files", ["variant_of", "variant"], unique=True, schema=S)
    op.create_index("ix_files_cid", "files", ["cid"], schema=S)
    op.create_table(
        "file_references",
        sa.Column(
            "file_id",
            postgresql.UUID(as_uuid=True),
            sa.ForeignKey(f"{S}.files.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("kind", sa.String(40), primary_key=True),
        sa.Column("object_id", postgresql.UUID(as_uuid=True), primary_key=True),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
        schema=S,
    )
    op.create_index(
        "ix_file_references_object", "file_references", ["kind", "object_id"], schema=S
    )


def downgrade() -> None:
    S = _schema()
    op.drop_table("file_references", schema=S)
    op.drop_table("files", schema=S)
