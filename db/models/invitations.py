"""Invitation tokens of a territory and who redeemed them."""

from __future__ import annotations

from sqlalchemy import (
    CheckConstraint,
    Column,
    DateTime,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    Table,
    UniqueConstraint,
    func,
)
from sqlalchemy.dialects.postgresql import UUID

from db.models.base import created_at, territory_metadata

invitation_tokens = Table(
    "invitation_tokens",
    territory_metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("token_hash", LargeBinary(32), nullable=False, unique=True),
    Column("email", String(320), nullable=True),
    Column("max_uses", Integer, nullable=False, server_default="1"),
    Column("use_count", Integer, nullable=False, server_default="0"),
    Column("role", String(32), nullable=False, server_default="member"),
    Column("expires_at", DateTime(timezone=True), nullable=False),
    Column("revoked_at", DateTime(timezone=True), nullable=True),
    Column("created_by", UUID(as_uuid=True), ForeignKey("territory.users.id"), nullable=True),
    created_at(),
    CheckConstraint("max_uses >= 1 AND use_count >= 0 AND use_count <= max_uses", name="uses"),
)

invitation_uses = Table(
    "invitation_uses",
    territory_metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column(
        "invitation_id",
        UUID(as_uuid=True),
        ForeignKey("territory.invitation_tokens.id"),
        nullable=False,
    ),
    Column("user_id", UUID(as_uuid=True), ForeignKey("territory.users.id"), nullable=False),
    Column("used_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    UniqueConstraint("invitation_id", "user_id", name="uq_invitation_uses_invitation_user"),
)
