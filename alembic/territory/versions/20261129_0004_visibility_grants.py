"""Visibility grants: the profile's setting or one field's setting shared with a social group.

A row says "members of this group also see this": ``scope`` is ``profile`` (the profile's own
setting) or a profile field's name. Rows die with their group (ON DELETE CASCADE), so deleting a
group removes what it granted; the group's owner is the profile's owner.

Revision ID: t0004
Revises: t0003
Create Date: 2026-11-29
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "t0004"
down_revision: str | None = "t0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PLACEHOLDER = "territory"

# Written out, not imported: a migration must not change when the code's enum does.
SCOPES = (
    "profile",
    "display_name",
    "bio",
    "location",
    "birthdate",
    "avatar",
    "primary_language",
    "languages",
    "preferred_translation_language",
    "social_links",
)


def _schema() -> str:
    """The real schema, used for every operation: Alembic's constraint DDL does not go through
    schema_translate_map (see t0002), and create_table works with it either way."""
    translate = op.get_bind().get_execution_options().get("schema_translate_map") or {}
    return str(translate.get(PLACEHOLDER, PLACEHOLDER))


def upgrade() -> None:
    S = _schema()
    op.create_table(
        "visibility_grants",
        sa.Column(
            "group_id",
            postgresql.UUID(as_uuid=True),
            sa.ForeignKey(f"{S}.social_groups.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("scope", sa.String(40), primary_key=True),
        sa.Column(
            "granted_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
        sa.CheckConstraint(
            "scope IN (" + ", ".join(f"'{s}'" for s in SCOPES) + ")",
            name="ck_visibility_grants_scope_known",
        ),
        schema=S,
    )


def downgrade() -> None:
    op.drop_table("visibility_grants", schema=_schema())
