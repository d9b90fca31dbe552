"""Trusted GraphQL documents, shared by every territory."""

from __future__ import annotations

from sqlalchemy import CheckConstraint, Column, String, Table, Text

from db.models.base import created_at, global_metadata

# g0003: GraphQL documents registered by their SHA-256 (graph/server/documents.py). Immutable:
# a hash names one text forever, so every process may cache them. Operations only, no personal
# data.
trusted_documents = Table(
    "trusted_documents",
    global_metadata,
    Column("sha256", String(64), primary_key=True),
    Column("body", Text, nullable=False),
    created_at(),
    CheckConstraint("sha256 ~ '^[0-9a-f]{64}$'", name="sha256_hex"),
)
