"""A person's social groups (Family, Friends, custom) and their members."""

from __future__ import annotations

from sqlalchemy import (
    CheckConstraint,
    Column,
    DateTime,
    ForeignKey,
    Index,
    String,
    Table,
    Text,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import UUID

from db.models.base import created_at, owned_by_user, territory_metadata

social_groups = Table(
    "social_groups",
    territory_metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    owned_by_user("owner_id"),
    Column("kind", String(16), nullable=False),
    Column("name", Text, nullable=False),
    created_at(),
    CheckConstraint("kind IN ('family', 'friends', 'custom')", name="kind_known"),
    Index("uq_social_groups_owner_name", "owner_id", func.lower(text("name")), unique=True),
    Index(
        "uq_social_groups_owner_kind",
        "owner_id",
        "kind",
        unique=True,
        postgresql_where=text("kind <> 'custom'"),
    ),
)

social_group_members = Table(
    "social_group_members",
    territory_metadata,
    Column(
        "group_id",
        UUID(as_uuid=True),
        ForeignKey("territory.social_groups.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    # A member may live in any territory: (territory, user id) names them without copying data.
    Column("member_territory", String(48), primary_key=True),
    Column("member_user_id", UUID(as_uuid=True), primary_key=True),
    Column("added_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Index("ix_social_group_members_member", "member_territory", "member_user_id"),
)
