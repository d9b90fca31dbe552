"""Invitations into a territory as its managers see them, and what a signup page may know."""

from __future__ import annotations

import uuid
from datetime import datetime

import strawberry

from db.invitations import InvitationRecord
from domain.roles import Role, can_manage_territory
from graph import ids
from graph.context import Info
from graph.loaders.invitations import INVITATION_BY_ID, USES_OF_INVITATION
from graph.types.accounts import User
from graph.types.relay import Node


@strawberry.type(
    description="What a signup page may know about an invitation token (anyone may ask)."
)
class InvitationCheck:
    valid: bool = strawberry.field(description="Whether the token can register an account now.")
    code: str | None = strawberry.field(
        description="Why it cannot be used: INVITATION_NOT_FOUND, INVITATION_EXPIRED, "
        "INVITATION_REVOKED or INVITATION_EXHAUSTED; null when valid."
    )
    territory: str | None = strawberry.field(
        description="The id of the territory it invites into; null when not valid."
    )
    email_required: bool = strawberry.field(
        description="The invitation is bound to one email address (which is not shown); false "
        "when not valid."
    )
    expires_at: datetime | None = strawberry.field(
        description="When it stops being usable; null when not valid."
    )


@strawberry.type(description="One registration made with an invitation.")
class InvitationUse:
    used_at: datetime = strawberry.field(description="When the account was registered.")
    territory_code: strawberry.Private[str]
    user_id: strawberry.Private[uuid.UUID]

    @strawberry.field(
        description="The account it registered; null once it is no longer active (or for "
        "callers who may not read the territory's accounts)."
    )
    async def user(self, info: Info) -> User | None:
        return await User.by_id(info, self.territory_code, self.user_id)


@strawberry.type(
    description="An invitation into a territory: seen only by that territory's managers and "
    "global admins."
)
class Invitation(Node):
    territory: str = strawberry.field(description="The id of the territory it invites into.")
    email: str | None = strawberry.field(
        description="The only address that may register with it; null when anyone may."
    )
    max_uses: int = strawberry.field(description="How many accounts it may register in all.")
    use_count: int = strawberry.field(description="How many accounts it has registered so far.")
    role: Role = strawberry.field(
        description="The role it grants besides MEMBER of the territory (MEMBER: none more)."
    )
    expires_at: datetime = strawberry.field(description="When it stops being usable.")
    revoked_at: datetime | None = strawberry.field(
        description="When a manager revoked it; null while it is not revoked."
    )
    created_at: datetime = strawberry.field(description="When it was created.")
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
    async def uses(self, info: Info) -> list[InvitationUse]:
        found = await info.context.loaders.get(USES_OF_INVITATION, self.territory).load(self.key)
        return [
            InvitationUse(used_at=u.used_at, territory_code=self.territory, user_id=u.user_id)
            for u in found
        ]


async def invitation_by_id(
    info: Info, territory_id: str, invitation_id: uuid.UUID
) -> Invitation | None:
    """The invitation if the caller manages its territory, else None: to anyone else an
    invitation that exists and one that does not look the same."""
    if not can_manage_territory(info.context.caller.roles, territory_id):
        return None
    record = await info.context.loaders.get(INVITATION_BY_ID, territory_id).load(invitation_id)
    return None if record is None else Invitation.from_record(record)
