"""Role grants as the graph shows them, and ``User.roles``."""

from __future__ import annotations

import strawberry

from domain.roles import Grant, Role
from graph.context import Info
from graph.loaders.roles import GRANTS_OF_IDENTITY
from graph.types.enums import described_enum
from graph.types.relay import PersonKey

RoleEnum = described_enum(
    Role,
    name="Role",
    description="What a role grant allows. Every grant but GLOBAL_ADMIN holds in one territory.",
    values={
        Role.GLOBAL_ADMIN: "Everything, in every territory: names territory managers and global "
        "admins. Has no territory; only global admins grant it (or an invitation into `global`).",
        Role.TERRITORY_MANAGER: "Runs one territory: invites people into it, grants and revokes "
        "its MODERATOR, CONTENT_CREATOR and MEMBER roles, reads its accounts. Only global admins "
        "grant it.",
        Role.MODERATOR: "Reads the accounts of one territory, for moderation.",
        Role.CONTENT_CREATOR: "Marks a content creator of one territory; no operation checks "
        "it yet.",
        Role.MEMBER: "Belongs to one territory: every account holds it in its own.",
    },
)


@strawberry.type(description="One role a user holds, in one territory or (global admin) all.")
class RoleGrant:
    role: Role = strawberry.field(description="What the grant allows.")
    territory: str | None = strawberry.field(
        description="The territory id it holds in; null for GLOBAL_ADMIN (every territory)."
    )

    @classmethod
    def from_grant(cls, grant: Grant) -> RoleGrant:
        return cls(role=grant.role, territory=grant.territory_id)


@strawberry.type
class UserRoles(PersonKey):
    """``User.roles``."""

    @strawberry.field(
        description="Active role grants, read fresh: an access token carries the grants of its "
        "last login or refresh."
    )
    async def roles(self, info: Info) -> list[RoleGrant]:
        ihash = info.context.services.config.identity(self.territory_code, self.user_id)
        grants = await info.context.loaders.get_global(GRANTS_OF_IDENTITY).load(ihash)
        return [RoleGrant.from_grant(g) for g in grants]
