"""Accounts: users (territory; all personal data), their pseudonymous identities in ``global``
and their login sessions, which hold no more than that identity."""

from __future__ import annotations

from sqlalchemy import (
    Column,
    DateTime,
    ForeignKey,
    Index,
    LargeBinary,
    String,
    Table,
    Text,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import UUID

from db.models.base import created_at, global_metadata, territory_metadata, updated_at

user_identities = Table(
    "user_identities",
    global_metadata,
    # HMAC of (territory id, local user id) under a server secret: links sessions and roles to a
    # user without the federation layer learning who the user is.
    Column("identity_hash", LargeBinary(32), primary_key=True),
    Column("territory_id", String(48), ForeignKey("global.territories.id"), nullable=False),
    created_at(),
)

sessions = Table(
    "sessions",
    global_metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column(
        "identity_hash",
        LargeBinary(32),
        ForeignKey("global.user_identities.identity_hash", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("family_id", UUID(as_uuid=True), nullable=False),
    Column("refresh_token_hash", LargeBinary(32), nullable=False, unique=True),
    created_at(),
    Column("expires_at", DateTime(timezone=True), nullable=False),
    Column("rotated_at", DateTime(timezone=True), nullable=True),
    Column("revoked_at", DateTime(timezone=True), nullable=True),
    Index("ix_sessions_identity_hash", "identity_hash"),
    Index("ix_sessions_family_id", "family_id"),
)

users = Table(
    "users",
    territory_metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("username", String(64), nullable=False),
    Column("email", String(320), nullable=False),
    Column("password_hash", Text, nullable=False),
    Column("display_name", String(128), nullable=False),
    Column("status", String(16), nullable=False, server_default="active"),
    created_at(),
    updated_at(),
    Index("uq_users_username_lower", func.lower(text("username")), unique=True),
    Index("uq_users_email_lower", func.lower(text("email")), unique=True),
    # t0002: HMAC(IDENTITY_HASH_KEY, territory:id), the user's handle in `global`.
    Column("identity_hash", LargeBinary(32), nullable=True, unique=True),
)
