"""THE check every area calls: what a person may do, from their roles and the badges they hold.

    from graph import badge_access
    perms = await badge_access.permissions_of(info, (territory_id, user_id))
    if not perms.allows(Permission.FORUM_POST, Scope.community(territory_id, community_id)):
        raise Forbidden(...)
    perms.holds(BadgeRef("dk", badge_id))

Batched per request: the reads go through loader specs (a person's awards: one statement per
territory of the people asked about; their definitions: one statement on ``global`` plus one per
territory that defines them), so asking about every author of a page costs the same statements as
asking about one. The rule itself is ``domain.badges.effective_permissions`` (roles + badges valid
now whose prerequisites are valid now, per scope), evaluated at the request's clock.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterable

from db.badges import AwardRecord, DefinitionRecord
from domain.badges import GLOBAL_HOME, BadgeRef, EffectivePermissions, effective_permissions
from graph.context import Info
from graph.loaders.badges import AWARDS_OF_USER, DEFINITION_BY_ID, GLOBAL_DEFINITION_BY_ID
from graph.loaders.roles import GRANTS_OF_IDENTITY

Person = tuple[str, uuid.UUID]
"""(territory id, user id) of an account."""


async def definition(info: Info, ref: BadgeRef) -> DefinitionRecord | None:
    """A definition at any level through the request's loaders (batched with its siblings)."""
    loaders = info.context.loaders
    if ref.home == GLOBAL_HOME:
        return await loaders.get_global(GLOBAL_DEFINITION_BY_ID).load(ref.id)
    return await loaders.get(DEFINITION_BY_ID, ref.home).load(ref.id)


async def definitions(info: Info, refs: Iterable[BadgeRef]) -> dict[BadgeRef, DefinitionRecord]:
    """Definitions by reference; unknown ones are left out."""
    wanted = sorted(set(refs))
    found = await asyncio.gather(*(definition(info, ref) for ref in wanted))
    return {ref: rec for ref, rec in zip(wanted, found, strict=True) if rec is not None}


async def _roles_of(info: Info, person: Person) -> frozenset[str]:
    caller = info.context.caller
    territory_id, user_id = person
    if caller.is_account(territory_id, user_id):
        return caller.roles
    identity = info.context.services.config.identity(territory_id, user_id)
    grants = await info.context.loaders.get_global(GRANTS_OF_IDENTITY).load(identity)
    return frozenset(g.encode() for g in grants)


async def held_awards(
    info: Info, person: Person
) -> tuple[list[AwardRecord], dict[BadgeRef, DefinitionRecord]]:
    """Every award of ``person`` with the definitions they name."""
    territory_id, user_id = person
    awards = list(await info.context.loaders.get(AWARDS_OF_USER, territory_id).load(user_id))
    return awards, await definitions(info, (a.badge for a in awards))


async def permissions_of(info: Info, person: Person) -> EffectivePermissions:
    """What ``person`` may do now: their roles plus the permissions of the badges they validly
    hold (prerequisites valid too), each within its badge's scope."""
    (awards, found), roles = await asyncio.gather(
        held_awards(info, person), _roles_of(info, person)
    )
    held = [a.held(found[a.badge]) for a in awards if a.badge in found]
    return effective_permissions(roles, held, info.context.clock())


async def permissions_of_many(
    info: Info, people: Iterable[Person]
) -> dict[Person, EffectivePermissions]:
    """``permissions_of`` for many people at once: still one statement per territory."""
    wanted = list(dict.fromkeys(people))
    found = await asyncio.gather(*(permissions_of(info, p) for p in wanted))
    return dict(zip(wanted, found, strict=True))
