"""What every table module shares: the two metadata objects, their naming convention and the
column shapes that repeat across areas.

Territory tables carry the placeholder schema ``territory``; each statement is routed by a
``schema_translate_map`` that renders ``territory_<id>`` into its SQL. No schema called
``territory`` ever exists, so a statement that escapes routing fails instead of leaking.
"""

from __future__ import annotations

from sqlalchemy import Column, DateTime, ForeignKey, MetaData, func
from sqlalchemy.dialects.postgresql import UUID

GLOBAL_SCHEMA = "global"
TERRITORY_PLACEHOLDER = "territory"

# Constraint names are part of the migrations: a changed convention would rename them.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# The federation layer. No personal data (a test holds its columns to an allow-list).
global_metadata = MetaData(schema=GLOBAL_SCHEMA, naming_convention=NAMING)
# The territory template: every territory's personal data, in its own schema.
territory_metadata = MetaData(schema=TERRITORY_PLACEHOLDER, naming_convention=NAMING)


def created_at() -> Column[object]:
    return Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now())


def owned_by_user(name: str, *, primary_key: bool = False) -> Column[object]:
    """A row that belongs to a user of the same territory and goes when the user goes."""
    return Column(
        name,
        UUID(as_uuid=True),
        ForeignKey("territory.users.id", ondelete="CASCADE"),
        primary_key=primary_key,
        nullable=False,
    )


def updated_at() -> Column[object]:
    return Column(
        "updated_at",
        DateTime(timezone=True),
        nullable=False,
        server_default=func.now(),
        onupdate=func.now(),
    )
