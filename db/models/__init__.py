"""Table definitions, one module per area; every name is re-exported here, so Alembic's two trees
and every query module import ``db.models`` without knowing which area owns a table."""

from db.models.accounts import sessions, user_identities, users
from db.models.audit import audit_log
from db.models.badges import (
    badge_award_history,
    badge_awards,
    badge_definition_versions,
    badge_definitions,
    badge_notice_claims,
    badge_prerequisites,
    badge_rule_events,
    global_badge_definition_versions,
    global_badge_definitions,
    global_badge_prerequisites,
)
from db.models.base import (
    GLOBAL_SCHEMA,
    NAMING,
    TERRITORY_PLACEHOLDER,
    global_metadata,
    territory_metadata,
)
from db.models.communities import communities, community_memberships
from db.models.credentials import credential_issuer_keys, credential_statuses
from db.models.documents import trusted_documents
from db.models.events import global_outbox, outbox
from db.models.files import file_references, files
from db.models.forums import (
    forum_comments,
    forum_flags,
    forum_moderation_log,
    forum_restrictions,
    forum_revisions,
    forum_strikes,
    forum_topics,
    forum_votes,
    forums,
)
from db.models.invitations import invitation_tokens, invitation_uses
from db.models.notifications import notifications
from db.models.profiles import (
    language_proficiencies,
    profiles,
    social_links,
    visibility_grants,
)
from db.models.roles import role_assignments
from db.models.social_groups import social_group_members, social_groups
from db.models.territories import settings, territories

__all__ = [
    "GLOBAL_SCHEMA",
    "NAMING",
    "TERRITORY_PLACEHOLDER",
    "audit_log",
    "badge_award_history",
    "badge_awards",
    "badge_definition_versions",
    "badge_definitions",
    "badge_notice_claims",
    "badge_prerequisites",
    "badge_rule_events",
    "communities",
    "community_memberships",
    "credential_issuer_keys",
    "credential_statuses",
    "file_references",
    "files",
    "forum_comments",
    "forum_flags",
    "forum_moderation_log",
    "forum_restrictions",
    "forum_revisions",
    "forum_strikes",
    "forum_topics",
    "forum_votes",
    "forums",
    "global_badge_definition_versions",
    "global_badge_definitions",
    "global_badge_prerequisites",
    "global_metadata",
    "global_outbox",
    "invitation_tokens",
    "invitation_uses",
    "language_proficiencies",
    "notifications",
    "outbox",
    "profiles",
    "role_assignments",
    "sessions",
    "settings",
    "social_group_members",
    "social_groups",
    "social_links",
    "territories",
    "territory_metadata",
    "trusted_documents",
    "user_identities",
    "users",
    "visibility_grants",
]
