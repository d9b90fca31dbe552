"""The territory registry (``global.territories``: which territories exist and on which database
server each lives) and each territory's own key/value settings."""

from __future__ import annotations

from sqlalchemy import CheckConstraint, Column, ForeignKey, String, Table, Text
from sqlalchemy.dialects.postgresql import JSONB

from db.models.base import created_at, global_metadata, territory_metadata, updated_at

territories = Table(
    "territories",
    global_metadata,
    Column("id", String(48), primary_key=True),
    Column("name", Text, nullable=False),
    Column("kind", String(16), nullable=False),
    Column("parent_id", String(48), ForeignKey("global.territories.id"), nullable=True),
    Column("db_server", String(64), nullable=False),
    Column("status", String(16), nullable=False, server_default="provisioning"),
    created_at(),
    updated_at(),
    CheckConstraint(
        "kind IN ('global', 'country', 'first_nation', 'community')", name="kind_known"
    ),
    CheckConstraint("status IN ('provisioning', 'active', 'suspended')", name="status_known"),
    CheckConstraint(
        "id ~ '^(global|[a-z]{2}|fn_[a-z0-9]+(_[a-z0-9]+)*|c_[a-z0-9]+(_[a-z0-9]+)*)$' "
        "AND length(id) <= 48",
        name="id_format",
    ),
)

settings = Table(
    "settings",
    territory_metadata,
    Column("key", String(128), primary_key=True),
    Column("value", JSONB, nullable=False),
    updated_at(),
)
