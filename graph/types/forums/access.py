"""Who may see a forum, decided once per forum from its facts and the caller's standing
(community membership, badges and forum permissions for its scope); topics and comments follow
from their forum."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from db.forums.records import CommentRecord, ForumRecord, TopicRecord
from domain.badges import Permission
from domain.communities import account_in
from domain.forums import (
    Standing,
    scope_of,
    visible_to,
)
from graph import badge_access
from graph.context import Info
from graph.loaders.communities import MEMBERSHIPS_OF_USER
from graph.loaders.forums import (
    COMMENT_BY_ID,
    FORUM_BY_ID,
    TOPIC_BY_ID,
)

# --- access, decided once per forum


async def standing_in(info: Info, record: ForumRecord) -> Standing:
    """The caller's standing for ``record``: community membership, the badges they validly hold
    and the forum permissions (roles and badges) in the forum's scope (graph.badge_access)."""
    caller = info.context.caller
    if not caller.is_authenticated:
        return Standing(
            is_member=record.community_id is None,
            badges=frozenset(),
            may_read=False,
            may_post=False,
            moderates=False,
        )
    territory_id = record.territory_id
    is_member = True
    if record.community_id is not None:
        user_id = account_in(caller, territory_id)
        if user_id is None:
            is_member = False
        else:
            found = await info.context.loaders.get(MEMBERSHIPS_OF_USER, territory_id).load(user_id)
            is_member = any(m.community_id == record.community_id for m, _ in found)
    perms = await badge_access.permissions_of(info, caller.account())
    scope = scope_of(record.facts)
    return Standing(
        is_member=is_member,
        badges=perms.held,
        may_read=perms.allows(Permission.FORUM_READ, scope),
        may_post=perms.allows(Permission.FORUM_POST, scope),
        moderates=perms.allows(Permission.FORUM_MODERATE, scope),
    )


@dataclass(frozen=True, slots=True)
class Access:
    """A forum the caller may see, with the standing that decided it."""

    record: ForumRecord
    standing: Standing


async def forum_access(info: Info, record: ForumRecord | None) -> Access | None:
    """None when the forum is missing or hidden from the caller (NOT_FOUND to them)."""
    if record is None:
        return None
    standing = await standing_in(info, record)
    if not visible_to(info.context.caller, record.facts, standing):
        return None
    return Access(record, standing)


async def forum_by_id(info: Info, territory_id: str, key: uuid.UUID) -> Access | None:
    record = await info.context.loaders.get(FORUM_BY_ID, territory_id).load(key)
    return await forum_access(info, record)


# --- lookups by id, through the forum's access


async def topic_in(
    info: Info, territory_id: str, key: uuid.UUID
) -> tuple[TopicRecord, Access] | None:
    """A topic the caller may see, with its forum's access: hidden topics only to the forum's
    moderators and their author."""
    record = await info.context.loaders.get(TOPIC_BY_ID, territory_id).load(key)
    if record is None:
        return None
    access = await forum_by_id(info, territory_id, record.forum_id)
    if access is None:
        return None
    if record.hidden_at is not None and not (
        access.standing.moderates or info.context.caller.is_account(*record.author)
    ):
        return None
    return record, access


async def comment_in(
    info: Info, territory_id: str, key: uuid.UUID
) -> tuple[CommentRecord, Access] | None:
    """A comment the caller may see (its topic visible), with its forum's access."""
    found = await info.context.loaders.get(COMMENT_BY_ID, territory_id).load(key)
    if found is None:
        return None
    record, _forum_id = found
    if await topic_in(info, territory_id, record.topic_id) is None:
        return None
    access = await forum_by_id(info, territory_id, _forum_id)
    return None if access is None else (record, access)
