"""Role grants as the graph shows them, and the input that gives or takes one."""

from __future__ import annotations

import strawberry
from sqlalchemy.ext.asyncio import AsyncConnection

from db import roles as role_db
from domain.roles import Grant, Role
from graph.context import Info
from graph.loaders.spec import GlobalLoader
from graph.types.relay import PersonKey

RoleEnum = strawberry.enum(Role, name="Role", description="What a role grant allows.")


@strawberry.type(description="One role a user holds, in one territory or (global admin) all.")
class RoleGrant:
    role: Role
    territory: str | None = strawberry.field(description="Territory id; null for global admin.")


@strawberry.input(description="A role grant to give or take.")
class RoleChangeInput:
    user_id: strawberry.ID
    role: Role
    territory: str | None = strawberry.field(
        default=None, description="Territory id; omit for global admin."
    )


async def _grants(conn: AsyncConnection, keys: list[bytes]) -> list[list[Grant]]:
    found = await role_db.active_grants(conn, keys)
    return [found.get(k, []) for k in keys]


GRANTS_OF_IDENTITY = GlobalLoader("roles.grants_of_identity", _grants)


@strawberry.type
class UserRoles(PersonKey):
    """``User.roles``."""

    @strawberry.field(description="Active role grants, read fresh (tokens may lag until refresh).")
    async def roles(self, info: Info) -> list[RoleGrant]:
        ihash = info.context.services.config.identity(self.territory_code, self.user_id)
        grants = await info.context.loaders.get_global(GRANTS_OF_IDENTITY).load(ihash)
        return [RoleGrant(role=g.role, territory=g.territory_id) for g in grants]
