"""Granting and revoking roles: ``global`` writes through ``global_change``, each change audited.

A revocation takes effect at once: once it commits, access tokens still carrying the grant are
refused (``AuthState.refusal``) until they expire, so their holder must refresh, which re-reads
the grants. Granting it again lifts that refusal.
"""

from __future__ import annotations

import uuid
from functools import partial
from typing import Annotated

import strawberry

from db import roles as role_db
from db.audit import AuditAction
from domain.errors import BadUserInput, Forbidden, NotFound, input_field
from domain.events import Event, RoleGranted, RoleRevoked, TerritoryRef
from domain.roles import Grant, Role, can_assign, check_recipient
from domain.territories import TerritoryKind, validate_territory_id
from graph.context import Info
from graph.loaders.accounts import USER_BY_ID
from graph.permissions import IsAuthenticated
from graph.types.accounts import User, user_by_id
from graph.types.roles import RoleGrant
from resolvers.common import emit_global, global_change, key_of

_REFUSALS = (
    "FORBIDDEN unless you are a global admin, or a territory manager of the grant's territory "
    "and the role is MODERATOR, CONTENT_CREATOR or MEMBER; NOT_FOUND for an unknown account; "
    "BAD_USER_INPUT (with `extensions.field`) for a malformed id or territory, or a territory "
    "given with GLOBAL_ADMIN or missing with any other role."
)
_FOREIGN_ACCOUNT = (
    " BAD_USER_INPUT (userId) for a role in a territory given to an account of another "
    "territory (only GLOBAL_ADMIN goes to any account)."
)


@strawberry.input(description="Which grant, to whom.")
class RoleChangeFields:
    user_id: strawberry.ID = strawberry.field(description="The account's `User` id.")
    role: Role = strawberry.field(description="The role.")
    territory: str | None = strawberry.field(
        default=None,
        description="The territory id the grant holds in; null for GLOBAL_ADMIN (and only then).",
    )


@strawberry.input(description="A role to grant to an account.")
class AssignRoleInput(RoleChangeFields):
    pass


@strawberry.input(description="A role grant to revoke.")
class RevokeRoleInput(RoleChangeFields):
    pass


@strawberry.type(description="The grant given, and to whom.")
class AssignRolePayload:
    grant: RoleGrant = strawberry.field(description="The grant the account now holds.")
    user: User | None = strawberry.field(
        description="The account, with its grants read after the change; null if you may not "
        "read accounts of its territory."
    )
    granted: bool = strawberry.field(
        description="True if this call granted it; false if the account held it already "
        "(nothing changed, nothing audited)."
    )


@strawberry.type(description="The grant revoked, and whose it was.")
class RevokeRolePayload:
    grant: RoleGrant = strawberry.field(description="The grant the account no longer holds.")
    user: User | None = strawberry.field(
        description="The account, with its grants read after the change; null if you may not "
        "read accounts of its territory."
    )
    revoked: bool = strawberry.field(
        description="True if this call revoked it; false if the account did not hold it "
        "(nothing changed, nothing audited)."
    )


def _grant(input: RoleChangeFields) -> Grant:
    with input_field("territory"):
        territory = None if input.territory is None else validate_territory_id(input.territory)
        if (input.role is Role.GLOBAL_ADMIN) != (territory is None):
            raise BadUserInput("global_admin takes no territory; every other role needs one.")
    return Grant(input.role, territory)


def _event(grant: Grant, territory_id: str, user_id: uuid.UUID, assign: bool) -> Event:
    """``role.granted``/``role.revoked`` in the territory the role applies in (``global`` for
    global_admin), naming the person's home territory."""
    kind = RoleGranted if assign else RoleRevoked
    return kind(
        territory_id=grant.territory_id or TerritoryKind.GLOBAL.value,
        user_id=user_id,
        user_territory=TerritoryRef(territory_id),
        role=grant.role,
    )


async def _change(
    info: Info, input: RoleChangeFields, *, assign: bool
) -> tuple[Grant, User | None, bool]:
    """Grant or revoke in ONE ``global`` transaction with its audit entry; then Redis follows
    (a revoked grant refused in tokens, a granted one no longer refused)."""
    territory_id, user_id = key_of(input.user_id, "User", field="userId")
    grant = _grant(input)
    if not can_assign(info.context.caller.roles, grant):
        raise Forbidden("You may not grant or revoke this role.")
    if assign:
        check_recipient(grant, territory_id)
    await _existing(info, territory_id, user_id)
    services = info.context.services
    ihash = services.config.identity(territory_id, user_id)
    async with global_change(info) as change:
        changed = await role_db.change_role(
            change.conn, ihash, grant, assign=assign, actor=change.actor
        )
        if changed:
            change.audit(
                AuditAction.ROLE_ASSIGNED if assign else AuditAction.ROLE_REVOKED,
                territory_id=grant.territory_id,
                target=ihash.hex(),
                details={"role": grant.encode()},
            )
            await emit_global(info, change.conn, _event(grant, territory_id, user_id, assign))
        if assign:
            change.after_commit(partial(services.state.grant_restored, ihash, grant.encode()))
        elif changed:
            ttl = services.config.access_ttl_seconds()
            change.after_commit(
                partial(services.state.grant_revoked, ihash, grant.encode(), ttl=ttl)
            )
    return grant, await user_by_id(info, territory_id, user_id), changed


async def _existing(info: Info, territory_id: str, user_id: uuid.UUID) -> None:
    if await info.context.loaders.get(USER_BY_ID, territory_id).load(user_id) is None:
        raise NotFound("No such user.")


@strawberry.type
class RoleMutations:
    @strawberry.mutation(
        description="Grant a role; it reaches the account's access tokens at their next "
        f"refresh. {_REFUSALS}{_FOREIGN_ACCOUNT}",
        permission_classes=[IsAuthenticated],
    )
    async def assign_role(
        self,
        info: Info,
        input: Annotated[AssignRoleInput, strawberry.argument(description="The grant.")],
    ) -> AssignRolePayload:
        grant, user, changed = await _change(info, input, assign=True)
        return AssignRolePayload(grant=RoleGrant.from_grant(grant), user=user, granted=changed)

    @strawberry.mutation(
        description="Revoke a role. Access tokens carrying it are refused at once "
        f"(UNAUTHENTICATED): their holder refreshes, without it. {_REFUSALS}",
        permission_classes=[IsAuthenticated],
    )
    async def revoke_role(
        self,
        info: Info,
        input: Annotated[RevokeRoleInput, strawberry.argument(description="The grant.")],
    ) -> RevokeRolePayload:
        grant, user, changed = await _change(info, input, assign=False)
        return RevokeRolePayload(grant=RoleGrant.from_grant(grant), user=user, revoked=changed)
