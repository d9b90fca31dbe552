"""The badges area's data: definitions (in ``global`` or a territory's schema), awards (in the
holder's territory schema) and the scheduler's claims. Callers pass a connection already routed:
to the main server for ``global`` definitions, to the territory for the rest.

Every batch read is ONE statement whatever the number of keys (keys travel as arrays), so a
request's statements grow with the territories it touches, never with rows. The package
re-exports its public names: callers write ``from db import badges as badge_db``.
"""

from db.badges.awards import (
    AwardPageKey,
    AwardRecord,
    HistoryRecord,
    award_pages,
    awards_by_ids,
    awards_of_users,
    code_of_conduct_until,
    grant,
    history_of,
    lock_award,
    lock_award_of,
    record_history,
    revoke,
)
from db.badges.definitions import (
    DefinitionPageKey,
    DefinitionRecord,
    VersionText,
    add_version,
    create_definition,
    definition_by_core_key,
    definition_page,
    definition_versions,
    definitions_by_ids,
    definitions_with_rules,
    ensure_core_badges,
    lock_definition,
    lock_prerequisite_graph,
    new_id,
    parse_ref,
    prerequisite_edges,
    ref_text,
    tables,
)
from db.badges.schedule import claim_notice, count_rule_events, expire_due, expiring

__all__ = [
    "AwardPageKey",
    "AwardRecord",
    "DefinitionPageKey",
    "DefinitionRecord",
    "HistoryRecord",
    "VersionText",
    "add_version",
    "award_pages",
    "awards_by_ids",
    "awards_of_users",
    "claim_notice",
    "code_of_conduct_until",
    "count_rule_events",
    "create_definition",
    "definition_by_core_key",
    "definition_page",
    "definition_versions",
    "definitions_by_ids",
    "definitions_with_rules",
    "ensure_core_badges",
    "expire_due",
    "expiring",
    "grant",
    "history_of",
    "lock_award",
    "lock_award_of",
    "lock_definition",
    "lock_prerequisite_graph",
    "new_id",
    "parse_ref",
    "prerequisite_edges",
    "record_history",
    "ref_text",
    "revoke",
    "tables",
]
