"""Granting and revoking roles; each change is audited in ``global.audit_log``."""

from __future__ import annotations

import strawberry

from db import accounts
from domain.errors import BadUserInput, Forbidden
from domain.roles import Grant, Role, can_assign
from domain.territories import validate_territory_id
from graph import ids
from graph.context import Info
from graph.permissions import IsAuthenticated
from graph.types.roles import RoleChangeInput
from resolvers.common import actor_identity


def _grant(input: RoleChangeInput) -> Grant:
    territory = None if input.territory is None else validate_territory_id(input.territory)
    if (input.role is Role.GLOBAL_ADMIN) != (territory is None):
        raise BadUserInput("global_admin takes no territory; every other role needs one.")
    return Grant(input.role, territory)


async def _change(info: Info, input: RoleChangeInput, *, assign: bool) -> bool:
    key = ids.decode(input.user_id)
    if key.type_name != "User":
        raise BadUserInput("Malformed user id.")
    user_id = ids.parse_uuid(key.key)
    grant = _grant(input)
    caller = info.context.caller
    if not can_assign(caller.roles, grant):
        raise Forbidden("You may not grant or revoke this role.")
    return await accounts.change_role(
        info.context.db,
        info.context.services.config,
        info.context.services.state,
        target_territory=key.territory_id,
        target_user=user_id,
        grant=grant,
        assign=assign,
        actor=actor_identity(info),
    )


@strawberry.type
class RoleMutations:
    @strawberry.mutation(
        description="Grant a role; true if it was not held yet. Takes effect at the next refresh.",
        permission_classes=[IsAuthenticated],
    )
    async def assign_role(self, info: Info, input: RoleChangeInput) -> bool:
        return await _change(info, input, assign=True)

    @strawberry.mutation(
        description="Revoke a role; true if it was held. Access tokens carrying it are refused "
        "at once (UNAUTHENTICATED): their holder refreshes, without it.",
        permission_classes=[IsAuthenticated],
    )
    async def revoke_role(self, info: Info, input: RoleChangeInput) -> bool:
        return await _change(info, input, assign=False)
