"""Files stored on IPFS: one row per file a person uploaded (and per variant of an image), and
the objects that reference each file (what keeps it pinned)."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import UUID

from db.models.base import created_at, owned_by_user, territory_metadata

files = Table(
    "files",
    territory_metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    owned_by_user("owner_id"),
    Column("purpose", String(32), nullable=False),
    # CIDv1 base32 (files/cids.py), checked against the one computed from the bytes.
    Column("cid", String(128), nullable=False),
    Column("media_type", String(100), nullable=False),
    Column("size", BigInteger, nullable=False),
    Column("filename", Text, nullable=False),
    Column("width", Integer, nullable=True),
    Column("height", Integer, nullable=True),
    # An image's smaller copy (an avatar's 64 and 256 px squares) points at its original.
    Column(
        "variant_of",
        UUID(as_uuid=True),
        ForeignKey("territory.files.id", ondelete="CASCADE"),
        nullable=True,
    ),
    Column("variant", String(16), nullable=True),
    created_at(),
    # The same bytes uploaded again by the same person for the same purpose are the same file.
    Index(
        "uq_files_owner_purpose_cid",
        "owner_id",
        "purpose",
        "cid",
        unique=True,
        postgresql_where=text("variant_of IS NULL"),
    ),
    Index("uq_files_variant", "variant_of", "variant", unique=True),
    Index("ix_files_cid", "cid"),
)

file_references = Table(
    "file_references",
    territory_metadata,
    Column(
        "file_id",
        UUID(as_uuid=True),
        ForeignKey("territory.files.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    # What refers to it: "profile.avatar" (object: the user), later forum posts, course items.
    Column("kind", String(40), primary_key=True),
    Column("object_id", UUID(as_uuid=True), primary_key=True),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Index("ix_file_references_object", "kind", "object_id"),
)
