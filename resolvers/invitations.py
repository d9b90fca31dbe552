"""Invitations of a territory: created, listed and revoked by its managers (or global admins)."""

from __future__ import annotations

import uuid
from datetime import timedelta

import strawberry

from db import accounts
from db import invitations as invitation_db
from domain import invitations as rules
from domain.accounts import validate_email
from domain.errors import BadUserInput, Forbidden, NotFound
from domain.roles import Grant, can_assign, can_manage_territory
from domain.territories import validate_territory_id
from graph import ids
from graph.context import Info
from graph.permissions import IsAuthenticated, ManagesTerritory
from graph.types.invitations import CreatedInvitation, CreateInvitationInput, Invitation
from graph.types.relay import page_size
from resolvers.common import actor_identity

_MISSING = "No such territory."


def _creator(info: Info, territory_id: str) -> uuid.UUID | None:
    """``created_by`` references the territory's own users: set only for its own managers."""
    caller = info.context.caller
    if caller.territory_id == territory_id and caller.user_id is not None:
        return uuid.UUID(caller.user_id)
    return None


@strawberry.type
class InvitationQueries:
    @strawberry.field(
        description="A territory's invitations, newest first (its managers only).",
        permission_classes=[ManagesTerritory],
    )
    async def invitations(
        self, info: Info, territory: str, first: int | None = None
    ) -> list[Invitation]:
        territory_id = validate_territory_id(territory)
        record = await info.context.loaders.active_territory(territory_id)
        if record is None:
            raise NotFound(_MISSING)
        async with info.context.db.connect(record.db_server, territory_id) as conn:
            rows = await invitation_db.page(conn, territory_id, after=None, limit=page_size(first))
        return [Invitation.from_record(r) for r in rows]


@strawberry.type
class InvitationMutations:
    @strawberry.mutation(
        description="Invite people into a territory; the token is returned once.",
        permission_classes=[ManagesTerritory],
    )
    async def create_invitation(
        self, info: Info, input: CreateInvitationInput
    ) -> CreatedInvitation:
        territory_id = validate_territory_id(input.territory)
        ttl = input.expires_in_hours * 3600
        rules.validate_new(
            territory_id=territory_id, max_uses=input.max_uses, role=input.role, ttl_seconds=ttl
        )
        grant = Grant(input.role, None if input.role.value == "global_admin" else territory_id)
        if not can_assign(info.context.caller.roles, grant):
            raise Forbidden("You may not invite people into this role.")
        email = None if input.email is None else validate_email(input.email)
        record = await info.context.loaders.active_territory(territory_id)
        if record is None:
            raise NotFound(_MISSING)
        token, invitation = await accounts.create_invitation(
            info.context.db,
            record,
            email=email,
            max_uses=input.max_uses,
            role=input.role,
            ttl=timedelta(seconds=ttl),
            created_by=_creator(info, territory_id),
            actor=actor_identity(info),
        )
        return CreatedInvitation(token=token, invitation=Invitation.from_record(invitation))

    @strawberry.mutation(
        description="Revoke an invitation (managers of its territory).",
        permission_classes=[IsAuthenticated],
    )
    async def revoke_invitation(self, info: Info, id: strawberry.ID) -> Invitation:
        key = ids.decode(id)
        if key.type_name != "Invitation":
            raise BadUserInput("Malformed invitation id.")
        invitation_id = ids.parse_uuid(key.key)
        # Authorized on the id's territory; others learn nothing about whether it exists.
        if not can_manage_territory(info.context.caller.roles, key.territory_id):
            raise NotFound("No such invitation.")
        record = await info.context.loaders.active_territory(key.territory_id)
        if record is None:
            raise NotFound("No such invitation.")
        revoked = await accounts.revoke_invitation(
            info.context.db, record, invitation_id, actor=actor_identity(info)
        )
        return Invitation.from_record(revoked)
