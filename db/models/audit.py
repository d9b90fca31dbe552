"""The audit log of every territory's changes. It lives in ``global`` and so names actors by
identity hash only, never by a personal detail."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Index,
    LargeBinary,
    String,
    Table,
    Text,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB

from db.models.base import global_metadata

audit_log = Table(
    "audit_log",
    global_metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=True),
    Column("occurred_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("action", String(64), nullable=False),
    Column("actor_identity_hash", LargeBinary(32), nullable=True),
    Column("territory_id", String(48), nullable=True),
    Column("target", Text, nullable=True),
    Column("details", JSONB, nullable=False, server_default=text("'{}'::jsonb")),
    Index("ix_audit_log_occurred_at", "occurred_at"),
)
