"""Role grants. They live in ``global`` because a grant may name no territory (a global admin);
the grantee is an identity hash, never a personal detail."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Column,
    DateTime,
    ForeignKey,
    Index,
    LargeBinary,
    String,
    Table,
    func,
    text,
)

from db.models.base import created_at, global_metadata

# `global.territory_managers` is a view over the active 'territory_manager' rows of
# role_assignments (migration g0004): manager grants have one home.
role_assignments = Table(
    "role_assignments",
    global_metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=True),
    Column(
        "identity_hash",
        LargeBinary(32),
        ForeignKey("global.user_identities.identity_hash", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("role", String(32), nullable=False),
    Column("territory_id", String(48), ForeignKey("global.territories.id"), nullable=True),
    Column("granted_by", LargeBinary(32), nullable=True),
    created_at(),
    Column("revoked_at", DateTime(timezone=True), nullable=True),
    CheckConstraint(
        "role IN ('global_admin', 'territory_manager', 'moderator', 'content_creator', 'member')",
        name="role_known",
    ),
    # g0002: who revoked a grant, and one active grant per (identity, role, territory).
    Column("revoked_by", LargeBinary(32), nullable=True),
    Index(
        "uq_role_assignments_active",
        "identity_hash",
        "role",
        func.coalesce(text("territory_id"), ""),
        unique=True,
        postgresql_where=text("revoked_at IS NULL"),
    ),
)
