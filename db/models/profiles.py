"""Profiles and what hangs off them: languages, social links and the visibility grants that
share a profile (or one field of it) with one of the owner's social groups."""

from __future__ import annotations

from sqlalchemy import (
    CheckConstraint,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Index,
    String,
    Table,
    Text,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB, UUID

from db.models.base import created_at, owned_by_user, territory_metadata, updated_at

profiles = Table(
    "profiles",
    territory_metadata,
    owned_by_user("user_id", primary_key=True),
    Column("bio", Text, nullable=True),
    Column("location", Text, nullable=True),
    Column("birthdate", Date, nullable=True),
    Column("avatar_ref", Text, nullable=True),
    Column("primary_language", String(35), nullable=True),
    Column("preferred_translation_language", String(35), nullable=True),
    # domain/privacy.py: the profile's preset and per-field overrides ({"birthdate": "only_me"}).
    Column("visibility", String(16), nullable=False, server_default="territory"),
    Column(
        "field_visibility",
        JSONB,
        nullable=False,
        server_default=text("""'{"birthdate": "only_me"}'::jsonb"""),
    ),
    Column("notification_preferences", JSONB, nullable=False, server_default=text("'{}'::jsonb")),
    created_at(),
    updated_at(),
    CheckConstraint(
        "visibility IN ('only_me', 'family', 'friends', 'community', 'territory', "
        "'all_territories', 'public')",
        name="visibility_known",
    ),
)

language_proficiencies = Table(
    "language_proficiencies",
    territory_metadata,
    owned_by_user("user_id", primary_key=True),
    Column("language", String(35), primary_key=True),
    Column("level", String(8), nullable=False),
    updated_at(),
    CheckConstraint("level IN ('a1', 'a2', 'b1', 'b2', 'c1', 'c2', 'native')", name="level_known"),
)

social_links = Table(
    "social_links",
    territory_metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    owned_by_user("user_id"),
    Column("platform", String(32), nullable=False),
    Column("url", Text, nullable=False),
    Column("label", Text, nullable=True),
    created_at(),
    Index("ix_social_links_user_id", "user_id"),
)

# t0004: the profile's setting (scope 'profile') or one field's setting shared with one of the
# owner's social groups; deleting the group deletes its grants.
visibility_grants = Table(
    "visibility_grants",
    territory_metadata,
    Column(
        "group_id",
        UUID(as_uuid=True),
        ForeignKey("territory.social_groups.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("scope", String(40), primary_key=True),
    Column("granted_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    CheckConstraint(
        "scope IN ('profile', 'display_name', 'bio', 'location', 'birthdate', 'avatar', "
        "'primary_language', 'languages', 'preferred_translation_language', 'social_links')",
        name="scope_known",
    ),
)
