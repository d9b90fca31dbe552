"""Badges: global-level definitions, their versions and prerequisites (awards of them live in
each recipient's territory schema).

Revision ID: g0006_badges
Revises: g0005
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "g0006_badges"
down_revision: str | None = "g0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

S = "global"
UUID = postgresql.UUID(as_uuid=True)
TS = sa.DateTime(timezone=True)


def definition_tables(S: str, levels: str) -> None:
    """The three definition tables; the territory tree's revision has the same shape."""
    op.create_table(
        "badge_definitions",
        sa.Column("id", UUID, nullable=False),
        sa.Column("level", sa.String(16), nullable=False),
        sa.Column("community_id", UUID, nullable=True),
        sa.Column("core_key", sa.String(64), nullable=True),
        sa.Column("current_version", sa.Integer(), nullable=False, server_default=sa.text("1")),
        sa.Column("created_at", TS, nullable=False, server_default=sa.func.now()),
        sa.Column("updated_at", TS, nullable=False, server_default=sa.func.now()),
        sa.PrimaryKeyConstraint("id", name="pk_badge_definitions"),
        sa.UniqueConstraint("core_key", name="uq_badge_definitions_core_key"),
        sa.CheckConstraint(f"level IN ({levels})", name="ck_badge_definitions_level_known"),
        sa.CheckConstraint(
            "(level = 'community') = (community_id IS NOT NULL)",
            name="ck_badge_definitions_community_iff_level",
        ),
        schema=S,
    )
    op.create_table(
        "badge_definition_versions",
        sa.Column("definition_id", UUID, nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("description", sa.Text(), nullable=False, server_default=""),
        sa.Column("criteria", sa.Text(), nullable=False, server_default=""),
        sa.Column("image", sa.Text(), nullable=True),
        sa.Column("category", sa.String(64), nullable=False, server_default="general"),
        sa.Column("permissions", postgresql.ARRAY(sa.String(32)), nullable=False, server_default="{}"),
        sa.Column("prerequisites", postgresql.ARRAY(sa.Text()), nullable=False, server_default="{}"),
        sa.Column("validity_days", sa.Integer(), nullable=True),
        sa.Column("rules", postgresql.JSONB(), nullable=False, server_default=sa.text("'[]'::jsonb")),
        sa.Column("created_at", TS, nullable=False, server_default=sa.func.now()),
        sa.PrimaryKeyConstraint("definition_id", "version", name="pk_badge_definition_versions"),
        sa.ForeignKeyConstraint(
            ["definition_id"], [f"{S}.badge_definitions.id"], ondelete="CASCADE",
            name="fk_badge_definition_versions_definition_id_badge_definitions",
        ),
        schema=S,
    )
    op.create_table(
        "badge_prerequisites",
        sa.Column("definition_id", UUID, nullable=False),
        sa.Column("prerequisite_home", sa.String(48), nullable=False),
        sa.Column("prerequisite_id", UUID, nullable=False),
        sa.PrimaryKeyConstraint(
            "definition_id", "prerequisite_home", "prerequisite_id", name="pk_badge_prerequisites"
        ),
        sa.ForeignKeyConstraint(
            ["definition_id"], [f"{S}.badge_definitions.id"], ondelete="CASCADE",
            name="fk_badge_prerequisites_definition_id_badge_definitions",
        ),
        schema=S,
    )


def upgrade() -> None:
    definition_tables(S, "'global'")


def downgrade() -> None:
    for table in ("badge_prerequisites", "badge_definition_versions", "badge_definitions"):
        op.drop_table(table, schema=S)
