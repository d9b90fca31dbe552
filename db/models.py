"""Table definitions for the federation layer (``global``) and the territory template.

Territory tables carry the placeholder schema ``territory``; each statement is routed by a
``schema_translate_map`` that renders ``territory_<id>`` into its SQL. No schema called
``territory`` ever exists, so a statement that escapes routing fails instead of leaking.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    Date,
    DateTime,
    ForeignKey,
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
from sqlalchemy.dialects.postgresql import JSONB, UUID

GLOBAL_SCHEMA = "global"
TERRITORY_PLACEHOLDER = "territory"

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

global_metadata = MetaData(schema=GLOBAL_SCHEMA, naming_convention=NAMING)
territory_metadata = MetaData(schema=TERRITORY_PLACEHOLDER, naming_convention=NAMING)


def _created_at() -> Column[object]:
    return Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now())


def _owned_by_user(name: str, *, primary_key: bool = False) -> Column[object]:
    """A row that belongs to a user of the same territory and goes when the user goes."""
    return Column(
        name,
        UUID(as_uuid=True),
        ForeignKey("territory.users.id", ondelete="CASCADE"),
        primary_key=primary_key,
        nullable=False,
    )


def _updated_at() -> Column[object]:
    return Column(
        "updated_at",
        DateTime(timezone=True),
        nullable=False,
        server_default=func.now(),
        onupdate=func.now(),
    )


# --- global: the federation layer. No personal data (a test holds its columns to an allow-list).

territories = Table(
    "territories",
    global_metadata,
    Column("id", String(48), primary_key=True),
    Column("name", Text, nullable=False),
    Column("kind", String(16), nullable=False),
    Column("parent_id", String(48), ForeignKey("global.territories.id"), nullable=True),
    Column("db_server", String(64), nullable=False),
    Column("status", String(16), nullable=False, server_default="provisioning"),
    _created_at(),
    _updated_at(),
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

user_identities = Table(
    "user_identities",
    global_metadata,
    # HMAC of (territory id, local user id) under a server secret: links sessions and roles to a
    # user without the federation layer learning who the user is.
    Column("identity_hash", LargeBinary(32), primary_key=True),
    Column("territory_id", String(48), ForeignKey("global.territories.id"), nullable=False),
    _created_at(),
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
    _created_at(),
    Column("expires_at", DateTime(timezone=True), nullable=False),
    Column("rotated_at", DateTime(timezone=True), nullable=True),
    Column("revoked_at", DateTime(timezone=True), nullable=True),
    Index("ix_sessions_identity_hash", "identity_hash"),
    Index("ix_sessions_family_id", "family_id"),
)

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
    _created_at(),
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

# g0003: GraphQL documents registered by their SHA-256 (graph/documents.py). Immutable: a hash
# names one text forever, so every process may cache them. Operations only, no personal data.
trusted_documents = Table(
    "trusted_documents",
    global_metadata,
    Column("sha256", String(64), primary_key=True),
    Column("body", Text, nullable=False),
    _created_at(),
    CheckConstraint("sha256 ~ '^[0-9a-f]{64}$'", name="sha256_hex"),
)

# --- territory template: every territory's personal data, in its own schema.

users = Table(
    "users",
    territory_metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("username", String(64), nullable=False),
    Column("email", String(320), nullable=False),
    Column("password_hash", Text, nullable=False),
    Column("display_name", String(128), nullable=False),
    Column("status", String(16), nullable=False, server_default="active"),
    _created_at(),
    _updated_at(),
    Index("uq_users_username_lower", func.lower(text("username")), unique=True),
    Index("uq_users_email_lower", func.lower(text("email")), unique=True),
    # t0002: HMAC(IDENTITY_HASH_KEY, territory:id), the user's handle in `global`.
    Column("identity_hash", LargeBinary(32), nullable=True, unique=True),
)

invitation_tokens = Table(
    "invitation_tokens",
    territory_metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("token_hash", LargeBinary(32), nullable=False, unique=True),
    Column("email", String(320), nullable=True),
    Column("max_uses", Integer, nullable=False, server_default="1"),
    Column("use_count", Integer, nullable=False, server_default="0"),
    Column("role", String(32), nullable=False, server_default="member"),
    Column("expires_at", DateTime(timezone=True), nullable=False),
    Column("revoked_at", DateTime(timezone=True), nullable=True),
    Column("created_by", UUID(as_uuid=True), ForeignKey("territory.users.id"), nullable=True),
    _created_at(),
    CheckConstraint("max_uses >= 1 AND use_count >= 0 AND use_count <= max_uses", name="uses"),
)

invitation_uses = Table(
    "invitation_uses",
    territory_metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column(
        "invitation_id",
        UUID(as_uuid=True),
        ForeignKey("territory.invitation_tokens.id"),
        nullable=False,
    ),
    Column("user_id", UUID(as_uuid=True), ForeignKey("territory.users.id"), nullable=False),
    Column("used_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    UniqueConstraint("invitation_id", "user_id", name="uq_invitation_uses_invitation_user"),
)

communities = Table(
    "communities",
    territory_metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("slug", String(64), nullable=False, unique=True),
    Column("name", Text, nullable=False),
    Column("description", Text, nullable=False, server_default=""),
    Column("is_public", Boolean, nullable=False, server_default=text("true")),
    Column("created_by", UUID(as_uuid=True), ForeignKey("territory.users.id"), nullable=True),
    _created_at(),
    _updated_at(),
    CheckConstraint("slug ~ '^[a-z0-9]+(-[a-z0-9]+)*$'", name="slug_format"),
)

settings = Table(
    "settings",
    territory_metadata,
    Column("key", String(128), primary_key=True),
    Column("value", JSONB, nullable=False),
    _updated_at(),
)

# --- t0003: profiles, privacy, social groups and community memberships (personal data: here only).

profiles = Table(
    "profiles",
    territory_metadata,
    _owned_by_user("user_id", primary_key=True),
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
    _created_at(),
    _updated_at(),
    CheckConstraint(
        "visibility IN ('only_me', 'family', 'friends', 'community', 'territory', "
        "'all_territories', 'public')",
        name="visibility_known",
    ),
)

language_proficiencies = Table(
    "language_proficiencies",
    territory_metadata,
    _owned_by_user("user_id", primary_key=True),
    Column("language", String(35), primary_key=True),
    Column("level", String(8), nullable=False),
    _updated_at(),
    CheckConstraint("level IN ('a1', 'a2', 'b1', 'b2', 'c1', 'c2', 'native')", name="level_known"),
)

social_links = Table(
    "social_links",
    territory_metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    _owned_by_user("user_id"),
    Column("platform", String(32), nullable=False),
    Column("url", Text, nullable=False),
    Column("label", Text, nullable=True),
    _created_at(),
    Index("ix_social_links_user_id", "user_id"),
)

social_groups = Table(
    "social_groups",
    territory_metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    _owned_by_user("owner_id"),
    Column("kind", String(16), nullable=False),
    Column("name", Text, nullable=False),
    _created_at(),
    CheckConstraint("kind IN ('family', 'friends', 'custom')", name="kind_known"),
    Index("uq_social_groups_owner_name", "owner_id", func.lower(text("name")), unique=True),
    Index(
        "uq_social_groups_owner_kind",
        "owner_id",
        "kind",
        unique=True,
        postgresql_where=text("kind <> 'custom'"),
    ),
)

social_group_members = Table(
    "social_group_members",
    territory_metadata,
    Column(
        "group_id",
        UUID(as_uuid=True),
        ForeignKey("territory.social_groups.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    # A member may live in any territory: (territory, user id) names them without copying data.
    Column("member_territory", String(48), primary_key=True),
    Column("member_user_id", UUID(as_uuid=True), primary_key=True),
    Column("added_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Index("ix_social_group_members_member", "member_territory", "member_user_id"),
)

community_memberships = Table(
    "community_memberships",
    territory_metadata,
    Column(
        "community_id",
        UUID(as_uuid=True),
        ForeignKey("territory.communities.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    _owned_by_user("user_id", primary_key=True),
    Column("role", String(16), nullable=False, server_default="member"),
    Column("joined_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    CheckConstraint("role IN ('member', 'moderator', 'admin')", name="role_known"),
    Index("ix_community_memberships_user_id", "user_id"),
)

# --- t0004: visibility grants. The profile's setting (scope 'profile') or one field's setting
# shared with one of the owner's social groups; deleting the group deletes its grants.

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


# ==== events: the transactional outbox (t0005, g0005; db/events.py, events/relay.py) ==========
# One table per territory schema and one in `global`, same columns: an event row is written in the
# transaction of the change it reports and published to NATS JetStream by a relay afterwards.
# `envelope` is domain.events.Envelope as JSON: ids and enum values only, never personal data.


def _outbox(metadata: MetaData) -> Table:
    return Table(
        "outbox",
        metadata,
        # The event id (UUIDv7, time-ordered): the order rows are published in, and Nats-Msg-Id.
        Column("id", UUID(as_uuid=True), primary_key=True),
        Column("subject", String(200), nullable=False),
        Column("envelope", JSONB, nullable=False),
        _created_at(),
        # NULL until JetStream acknowledged it; sent rows are pruned after a while.
        Column("sent_at", DateTime(timezone=True), nullable=True),
        # Failed publishes: how many, when to try again (backoff), and the last error's class.
        Column("attempts", Integer, nullable=False, server_default=text("0")),
        Column(
            "next_attempt_at", DateTime(timezone=True), nullable=False, server_default=func.now()
        ),
        Column("last_error", String(200), nullable=True),
        # What a relay claims: due unsent rows, oldest first; and what pruning deletes.
        Index(
            "ix_outbox_pending", "next_attempt_at", "id", postgresql_where=text("sent_at IS NULL")
        ),
        Index("ix_outbox_sent_at", "sent_at", postgresql_where=text("sent_at IS NOT NULL")),
    )


outbox = _outbox(territory_metadata)
global_outbox = _outbox(global_metadata)
# ==== end of events ==============================================================================
