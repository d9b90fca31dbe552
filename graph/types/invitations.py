"""Invitations into a territory as its managers see them, and what a signup page may know."""

from __future__ import annotations

import uuid
from datetime import datetime

import strawberry
from sqlalchemy.ext.asyncio import AsyncConnection

from db import invitations as invitation_db
from db.invitations import InvitationRecord, InvitationUse
from domain.roles import Role
from graph import ids
from graph.context import Info
from graph.types.accounts import User


@strawberry.type(description="What a signup page may know about an invitation.")
class InvitationCheck:
    valid: bool
    code: str | None = strawberry.field(
        description="Why it cannot be used (e.g. INVITATION_EXPIRED); null when valid."
    )
    territory: str | None
    email_required: bool = strawberry.field(
        description="The invitation is bound to one email address (which is not shown)."
    )
    expires_at: datetime | None


@strawberry.input
class CreateInvitationInput:
    territory: str
    email: str | None = strawberry.field(default=None, description="Bind it to one address.")
    max_uses: int = 1
    role: Role = Role.MEMBER
    expires_in_hours: int = 168


@strawberry.type(description="Who used an invitation, and when.")
class InvitationUseType:
    used_at: datetime
    territory_code: strawberry.Private[str]
    user_id: strawberry.Private[uuid.UUID]

    @strawberry.field
    async def user(self, info: Info) -> User | None:
        return await User.by_id(info, self.territory_code, self.user_id)


@strawberry.type(description="An invitation into a territory (managers only).")
class Invitation:
    id: strawberry.ID
    territory: str
    email: str | None
    max_uses: int
    use_count: int
    role: Role
    expires_at: datetime
    revoked_at: datetime | None
    created_at: datetime
    key: strawberry.Private[uuid.UUID]

    @classmethod
    def from_record(cls, record: InvitationRecord) -> Invitation:
        return cls(
            id=strawberry.ID(ids.encode("Invitation", record.territory_id, str(record.id))),
            territory=record.territory_id,
            email=record.email,
            max_uses=record.max_uses,
            use_count=record.use_count,
            role=record.role,
            expires_at=record.expires_at,
            revoked_at=record.revoked_at,
            created_at=record.created_at,
            key=record.id,
        )

    @strawberry.field(description="Each registration made with it, oldest first.")
    async def uses(self, info: Info) -> list[InvitationUseType]:
        none: list[InvitationUse] = []
        loader = info.context.loaders.in_territory(
            self.territory, "invitation_uses", _uses, missing=none
        )
        return [
            InvitationUseType(used_at=u.used_at, territory_code=self.territory, user_id=u.user_id)
            for u in await loader.load(self.key)
        ]


async def _uses(
    conn: AsyncConnection, territory_id: str, keys: list[uuid.UUID]
) -> list[list[InvitationUse]]:
    found = await invitation_db.uses_of(conn, keys)
    return [found.get(k, []) for k in keys]


@strawberry.type(description="A new invitation; the token is shown this once and never again.")
class CreatedInvitation:
    token: str
    invitation: Invitation
