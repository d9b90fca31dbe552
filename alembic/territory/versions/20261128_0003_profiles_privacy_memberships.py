"""Profiles, privacy settings, language proficiencies, social links and groups, memberships.

Everything personal stays in the territory's schema; social group members from other territories
are named by (territory, user id), never copied.

Revision ID: t0003
Revises: t0002
Create Date: 2026-11-28
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "t0003"
down_revision: str | None = "t0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PLACEHOLDER = "territory"
UUID = postgresql.UUID(as_uuid=True)


def _schema() -> str:
    """The real schema, used for every operation: Alembic's index and constraint DDL does not go
    through schema_translate_map (see t0002), and create_table works with it either way."""
    translate = op.get_bind().get_execution_options().get("schema_translate_map") or {}
    return str(translate.get(PLACEHOLDER, PLACEHOLDER))


def _ts(name: str) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now())


def _user_fk(S: str, name: str, *, primary_key: bool = False) -> sa.Column:
    return sa.Column(
        name,
        UUID,
        sa.ForeignKey(f"{S}.users.id", ondelete="CASCADE"),
        primary_key=primary_key,
        nullable=False,
    )


def upgrade() -> None:
    S = _schema()
    op.create_table(
        "profiles",
        _user_fk(S, "user_id", primary_key=True),
        sa.Column("bio", sa.Text(), nullable=True),
        sa.Column("location", sa.Text(), nullable=True),
        sa.Column("birthdate", sa.Date(), nullable=True),
        sa.Column("avatar_ref", sa.Text(), nullable=True),
        sa.Column("primary_language", sa.String(35), nullable=True),
        sa.Column("preferred_translation_language", sa.String(35), nullable=True),
        sa.Column("visibility", sa.String(16), nullable=False, server_default="territory"),
        sa.Column(
            "field_visibility",
            postgresql.JSONB(),
            nullable=False,
            server_default=sa.text("""'{"birthdate": "only_me"}'::jsonb"""),
        ),
        sa.Column(
            "notification_preferences",
            postgresql.JSONB(),
            nullable=False,
            server_default=sa.text("'{}'::jsonb"),
        ),
        _ts("created_at"),
        _ts("updated_at"),
        sa.CheckConstraint(
            "visibility IN ('only_me', 'family', 'friends', 'community', 'territory', "
            "'all_territories', 'public')",
            name="ck_profiles_visibility_known",
        ),
        schema=S,
    )
    op.create_table(
        "language_proficiencies",
        _user_fk(S, "user_id", primary_key=True),
        sa.Column("language", sa.String(35), primary_key=True),
        sa.Column("level", sa.String(8), nullable=False),
        _ts("updated_at"),
        sa.CheckConstraint(
            "level IN ('a1', 'a2', 'b1', 'b2', 'c1', 'c2', 'native')",
            name="ck_language_proficiencies_level_known",
        ),
        schema=S,
    )
    op.create_table(
        "social_links",
        sa.Column("id", UUID, primary_key=True),
        _user_fk(S, "user_id"),
        sa.Column("platform", sa.String(32), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("label", sa.Text(), nullable=True),
        _ts("created_at"),
        schema=S,
    )
    op.create_index("ix_social_links_user_id", "social_links", ["user_id"], schema=S)
    op.create_table(
        "social_groups",
        sa.Column("id", UUID, primary_key=True),
        _user_fk(S, "owner_id"),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        _ts("created_at"),
        sa.CheckConstraint(
            "kind IN ('family', 'friends', 'custom')", name="ck_social_groups_kind_known"
        ),
        schema=S,
    )
    op.create_index(
        "uq_social_groups_owner_name",
        "social_groups",
        ["owner_id", sa.text("lower(name)")],
        unique=True,
        schema=S,
    )
    op.create_index(
        "uq_social_groups_owner_kind",
        "social_groups",
        ["owner_id", "kind"],
        unique=True,
        postgresql_where=sa.text("kind <> 'custom'"),
        schema=S,
    )
    op.create_table(
        "social_group_members",
        sa.Column(
            "group_id",
            UUID,
            sa.ForeignKey(f"{S}.social_groups.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("member_territory", sa.String(48), primary_key=True),
        sa.Column("member_user_id", UUID, primary_key=True),
        _ts("added_at"),
        schema=S,
    )
    op.create_index(
        "ix_social_group_members_member",
        "social_group_members",
        ["member_territory", "member_user_id"],
        schema=S,
    )
    op.create_table(
        "community_memberships",
        sa.Column(
            "community_id",
            UUID,
            sa.ForeignKey(f"{S}.communities.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        _user_fk(S, "user_id", primary_key=True),
        sa.Column("role", sa.String(16), nullable=False, server_default="member"),
        _ts("joined_at"),
        sa.CheckConstraint(
            "role IN ('member', 'moderator', 'admin')", name="ck_community_memberships_role_known"
        ),
        schema=S,
    )
    op.create_index(
        "ix_community_memberships_user_id", "community_memberships", ["user_id"], schema=S
    )


def downgrade() -> None:
    S = _schema()
    for table in (
        "community_memberships",
        "social_group_members",
        "social_groups",
        "social_links",
        "language_proficiencies",
        "profiles",
    ):
        op.drop_table(table, schema=S)
