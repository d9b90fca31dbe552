"""Badge definitions (global ones in ``global``, territory and community ones in the territory's
schema, same shape), their versions and prerequisites; awards and their history (always in the
recipient's territory schema, whatever the badge's level); the scheduler's claims.

A prerequisite and an award name a badge by (home, id): ``home`` is ``global`` or the territory
id whose schema holds the definition, so no foreign key crosses schemas.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    DateTime,
    ForeignKey,
    Identity,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, UUID

from db.models.base import (
    created_at,
    global_metadata,
    owned_by_user,
    territory_metadata,
    updated_at,
)


def _definition_tables(metadata: MetaData, levels: str) -> tuple[Table, Table, Table]:
    schema = metadata.schema
    definitions = Table(
        "badge_definitions",
        metadata,
        Column("id", UUID(as_uuid=True), primary_key=True),
        Column("level", String(16), nullable=False),
        # A community-level badge's community (same schema); null otherwise.
        Column("community_id", UUID(as_uuid=True), nullable=True),
        # Core badges every territory has (``code_of_conduct``, ...): found by this key.
        Column("core_key", String(64), nullable=True, unique=True),
        Column("current_version", Integer, nullable=False, server_default=text("1")),
        created_at(),
        updated_at(),
        CheckConstraint(f"level IN ({levels})", name="level_known"),
        CheckConstraint(
            "(level = 'community') = (community_id IS NOT NULL)", name="community_iff_level"
        ),
    )
    versions = Table(
        "badge_definition_versions",
        metadata,
        Column(
            "definition_id",
            UUID(as_uuid=True),
            ForeignKey(f"{schema}.badge_definitions.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        Column("version", Integer, primary_key=True),
        Column("name", Text, nullable=False),
        Column("description", Text, nullable=False, server_default=""),
        Column("criteria", Text, nullable=False, server_default=""),
        Column("image", Text, nullable=True),
        Column("category", String(64), nullable=False, server_default="general"),
        Column("permissions", ARRAY(String(32)), nullable=False, server_default="{}"),
        # The prerequisites of this version as ["home:uuid", ...] (the live edges are below).
        Column("prerequisites", ARRAY(Text), nullable=False, server_default="{}"),
        Column("validity_days", Integer, nullable=True),
        # Automatic-award rules: [{"event": "course.completed", "threshold": 1}, ...].
        Column("rules", JSONB, nullable=False, server_default=text("'[]'::jsonb")),
        created_at(),
    )
    prerequisites = Table(
        "badge_prerequisites",
        metadata,
        Column(
            "definition_id",
            UUID(as_uuid=True),
            ForeignKey(f"{schema}.badge_definitions.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        Column("prerequisite_home", String(48), primary_key=True),
        Column("prerequisite_id", UUID(as_uuid=True), primary_key=True),
    )
    return definitions, versions, prerequisites


global_badge_definitions, global_badge_definition_versions, global_badge_prerequisites = (
    _definition_tables(global_metadata, "'global'")
)
badge_definitions, badge_definition_versions, badge_prerequisites = _definition_tables(
    territory_metadata, "'territory', 'community'"
)

badge_awards = Table(
    "badge_awards",
    territory_metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    owned_by_user("user_id"),
    Column("badge_home", String(48), nullable=False),
    Column("badge_id", UUID(as_uuid=True), nullable=False),
    # The definition version it was (last) given for.
    Column("version", Integer, nullable=False),
    # First award; kept on renewal (Open Badges' awardedDate).
    Column("awarded_at", DateTime(timezone=True), nullable=False),
    Column("valid_from", DateTime(timezone=True), nullable=False),
    Column("valid_until", DateTime(timezone=True), nullable=True),
    Column("revoked_at", DateTime(timezone=True), nullable=True),
    Column("revoke_reason", Text, nullable=True),
    # Set by the scheduler's expiry job once it announced the expiry (badge.expired); a renewal
    # clears it.
    Column("expired_at", DateTime(timezone=True), nullable=True),
    Column("source", String(16), nullable=False),
    Column("reason", Text, nullable=False, server_default=""),
    updated_at(),
    UniqueConstraint("user_id", "badge_home", "badge_id", name="uq_badge_awards_holder_badge"),
    CheckConstraint("source IN ('manual', 'rule', 'accepted', 'core')", name="source_known"),
    Index("ix_badge_awards_badge", "badge_home", "badge_id"),
    Index("ix_badge_awards_valid_until", "valid_until"),
)

badge_award_history = Table(
    "badge_award_history",
    territory_metadata,
    Column("id", BigInteger, Identity(), primary_key=True),
    Column(
        "award_id",
        UUID(as_uuid=True),
        ForeignKey("territory.badge_awards.id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("action", String(16), nullable=False),
    Column("version", Integer, nullable=False),
    Column("valid_until", DateTime(timezone=True), nullable=True),
    Column("reason", Text, nullable=False, server_default=""),
    # Who did it: an identity hash (null for the scheduler or a rule).
    Column("actor", LargeBinary, nullable=True),
    Column("at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    CheckConstraint("action IN ('awarded', 'renewed', 'revoked', 'expired')", name="action_known"),
    Index("ix_badge_award_history_award_id", "award_id"),
)

badge_notice_claims = Table(
    "badge_notice_claims",
    territory_metadata,
    Column(
        "award_id",
        UUID(as_uuid=True),
        ForeignKey("territory.badge_awards.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    # Days before expiry (30, 14, 7) and the expiry it announces: a renewal gets new notices.
    Column("days_before", Integer, primary_key=True),
    Column("valid_until", DateTime(timezone=True), primary_key=True),
    # False: skipped by a catch-up that sent a later notice instead.
    Column("sent", Boolean, nullable=False, server_default=text("true")),
    Column("claimed_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)

badge_rule_events = Table(
    "badge_rule_events",
    territory_metadata,
    # Each event counts once per rule: applying it twice changes nothing.
    Column("event_id", UUID(as_uuid=True), primary_key=True),
    Column("badge_home", String(48), primary_key=True),
    Column("badge_id", UUID(as_uuid=True), primary_key=True),
    owned_by_user("user_id"),
    Column("event_type", String(64), nullable=False),
    created_at(),
    Index("ix_badge_rule_events_user", "user_id", "badge_home", "badge_id", "event_type"),
)
