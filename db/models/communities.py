"""Communities of a territory and their members."""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
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

from db.models.base import created_at, owned_by_user, territory_metadata, updated_at

communities = Table(
    "communities",
    territory_metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("slug", String(64), nullable=False, unique=True),
    Column("name", Text, nullable=False),
    Column("description", Text, nullable=False, server_default=""),
    Column("is_public", Boolean, nullable=False, server_default=text("true")),
    Column("created_by", UUID(as_uuid=True), ForeignKey("territory.users.id"), nullable=True),
    created_at(),
    updated_at(),
    CheckConstraint("slug ~ '^[a-z0-9]+(-[a-z0-9]+)*$'", name="slug_format"),
)

community_memberships = Table(
    "community_memberships",
    territory_metadata,
    Column(
        "community_id",
        UUID(as_uuid=True),
        ForeignKey("territory.communities.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    owned_by_user("user_id", primary_key=True),
    Column("role", String(16), nullable=False, server_default="member"),
    Column("joined_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    CheckConstraint("role IN ('member', 'moderator', 'admin')", name="role_known"),
    Index("ix_community_memberships_user_id", "user_id"),
)
