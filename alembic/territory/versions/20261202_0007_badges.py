"""Badges: territory and community definitions, their versions and prerequisites; awards (of any
level, held by this territory's accounts) with their history; the scheduler's notice claims and
the automatic-award rules' applied events.

Revision ID: t0007_badges
Revises: t0005
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "t0007_badges"
down_revision: str | None = "t0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PLACEHOLDER = "territory"
UUID = postgresql.UUID(as_uuid=True)
TS = sa.DateTime(timezone=True)


def _schema() -> str:
    """The real schema (Alembic's constraint and index DDL does not go through the map)."""
    translate = op.get_bind().get_execution_options().get("schema_translate_map") or {}
    return str(translate.get(PLACEHOLDER, PLACEHOLDER))


def definition_tables(S: str, levels: str) -> None:
    """The three definition tables; the global tree's revision has the same shape."""
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
    S = _schema()
    definition_tables(S, "'territory', 'community'")
    op.create_table(
        "badge_awards",
        sa.Column("id", UUID, nullable=False),
        sa.Column("user_id", UUID, nullable=False),
        sa.Column("badge_home", sa.String(48), nullable=False),
        sa.Column("badge_id", UUID, nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("awarded_at", TS, nullable=False),
        sa.Column("valid_from", TS, nullable=False),
        sa.Column("valid_until", TS, nullable=True),
        sa.Column("revoked_at", TS, nullable=True),
        sa.Column("revoke_reason", sa.Text(), nullable=True),
        sa.Column("expired_at", TS, nullable=True),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False, server_default=""),
        sa.Column("updated_at", TS, nullable=False, server_default=sa.func.now()),
        sa.PrimaryKeyConstraint("id", name="pk_badge_awards"),
        sa.ForeignKeyConstraint(
            ["user_id"], [f"{S}.users.id"], ondelete="CASCADE",
            name="fk_badge_awards_user_id_users",
        ),
        sa.UniqueConstraint("user_id", "badge_home", "badge_id", name="uq_badge_awards_holder_badge"),
        sa.CheckConstraint(
            "source IN ('manual', 'rule', 'accepted', 'core')", name="ck_badge_awards_source_known"
        ),
        schema=S,
    )
    op.create_index("ix_badge_awards_badge", "badge_awards", ["badge_home", "badge_id"], schema=S)
    op.create_index("ix_badge_awards_valid_until", "badge_awards", ["valid_until"], schema=S)
    op.create_table(
        "badge_award_history",
        sa.Column("id", sa.BigInteger(), sa.Identity(), nullable=False),
        sa.Column("award_id", UUID, nullable=False),
        sa.Column("action", sa.String(16), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("valid_until", TS, nullable=True),
        sa.Column("reason", sa.Text(), nullable=False, server_default=""),
        sa.Column("actor", sa.LargeBinary(), nullable=True),
        sa.Column("at", TS, nullable=False, server_default=sa.func.now()),
        sa.PrimaryKeyConstraint("id", name="pk_badge_award_history"),
        sa.ForeignKeyConstraint(
            ["award_id"], [f"{S}.badge_awards.id"], ondelete="CASCADE",
            name="fk_badge_award_history_award_id_badge_awards",
        ),
        sa.CheckConstraint(
            "action IN ('awarded', 'renewed', 'revoked', 'expired')",
            name="ck_badge_award_history_action_known",
        ),
        schema=S,
    )
    op.create_index("ix_badge_award_history_award_id", "badge_award_history", ["award_id"], schema=S)
    op.create_table(
        "badge_notice_claims",
        sa.Column("award_id", UUID, nullable=False),
        sa.Column("days_before", sa.Integer(), nullable=False),
        sa.Column("valid_until", TS, nullable=False),
        sa.Column("sent", sa.Boolean(), nullable=False, server_default=sa.text("true")),
        sa.Column("claimed_at", TS, nullable=False, server_default=sa.func.now()),
        sa.PrimaryKeyConstraint("award_id", "days_before", "valid_until", name="pk_badge_notice_claims"),
        sa.ForeignKeyConstraint(
            ["award_id"], [f"{S}.badge_awards.id"], ondelete="CASCADE",
            name="fk_badge_notice_claims_award_id_badge_awards",
        ),
        schema=S,
    )
    op.create_table(
        "badge_rule_events",
        sa.Column("event_id", UUID, nullable=False),
        sa.Column("badge_home", sa.String(48), nullable=False),
        sa.Column("badge_id", UUID, nullable=False),
        sa.Column("user_id", UUID, nullable=False),
        sa.Column("event_type", sa.String(64), nullable=False),
        sa.Column("created_at", TS, nullable=False, server_default=sa.func.now()),
        sa.PrimaryKeyConstraint("event_id", "badge_home", "badge_id", name="pk_badge_rule_events"),
        sa.ForeignKeyConstraint(
            ["user_id"], [f"{S}.users.id"], ondelete="CASCADE",
            name="fk_badge_rule_events_user_id_users",
        ),
        schema=S,
    )
    op.create_index(
        "ix_badge_rule_events_user", "badge_rule_events",
        ["user_id", "badge_home", "badge_id", "event_type"], schema=S,
    )


def downgrade() -> None:
    S = _schema()
    for table in (
        "badge_rule_events", "badge_notice_claims", "badge_award_history", "badge_awards",
        "badge_prerequisites", "badge_definition_versions", "badge_definitions",
    ):
        op.drop_table(table, schema=S)
