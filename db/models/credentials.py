"""A territory's Open Badges issuer keys and revocation status list (t0008; db/credentials.py).

``credential_issuer_keys``: the territory issuer's Ed25519 keys. The private key (the 32-byte
seed) never leaves this schema except in a territory dump, which moves the territory with its
keys; at most one key is active (``retired_at`` NULL), retired ones stay so what they signed
still verifies. ``credential_statuses``: each award's bit in its territory's status lists.
"""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Column,
    DateTime,
    Index,
    Integer,
    LargeBinary,
    String,
    Table,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import UUID

from db.models.base import created_at, territory_metadata

credential_issuer_keys = Table(
    "credential_issuer_keys",
    territory_metadata,
    # The fragment of the key's id under the issuer URL: ``key-1``, ``key-2`` ...
    Column("kid", String(32), primary_key=True),
    Column("private_key", LargeBinary(32), nullable=False),
    Column("public_key", LargeBinary(32), nullable=False),
    created_at(),
    Column("retired_at", DateTime(timezone=True), nullable=True),
    # One active key: the unique index over a constant, for the rows not retired.
    Index(
        "ix_credential_issuer_keys_active",
        text("(retired_at IS NULL)"),
        unique=True,
        postgresql_where=text("retired_at IS NULL"),
    ),
)

credential_statuses = Table(
    "credential_statuses",
    territory_metadata,
    # The badge award (badges area); no foreign key so either area can land first.
    Column("award_id", UUID(as_uuid=True), primary_key=True),
    Column("list_no", Integer, nullable=False),
    Column("status_index", Integer, nullable=False),
    Column("revoked", Boolean, nullable=False, server_default=text("false")),
    Column("revoked_at", DateTime(timezone=True), nullable=True),
    created_at(),
    UniqueConstraint("list_no", "status_index", name="uq_credential_statuses_list_index"),
    CheckConstraint(
        "list_no >= 1 AND status_index >= 0 AND status_index < 131072", name="position"
    ),
)
