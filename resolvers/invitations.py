"""Invitations of a territory: created, listed and revoked by its managers (or global admins);
checked by anyone holding a token (a signup page)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated

import strawberry

from db import invitations as invitation_db
from db.audit import AuditAction
from domain import invitations as rules
from domain.accounts import secret_hash, validate_email
from domain.errors import Forbidden, InvitationInvalid, InvitationNotFound, NotFound, input_field
from domain.roles import Grant, Role, can_assign, can_manage_territory, check_recipient
from domain.territories import validate_territory_id
from graph import ids
from graph.context import Info
from graph.loaders.invitations import INVITATION_BY_TOKEN_HASH
from graph.permissions import IsAuthenticated, ManagesTerritory, Public
from graph.types.invitations import Invitation, InvitationCheck, invitation_by_id
from graph.types.relay import First, Node, page_size
from resolvers.common import key_of, territory_change

HOUR = 3600


async def invitation_node(info: Info, key: ids.NodeKey) -> Node | None:
    """``node(id:)`` for an ``Invitation``: its territory's managers and global admins only."""
    return await invitation_by_id(info, key.territory_id, ids.parse_uuid(key.key))


@strawberry.type
class InvitationQueries:
    @strawberry.field(
        description="A territory's invitations, newest first. FORBIDDEN unless you manage the "
        "territory (or are a global admin); NOT_FOUND for an unknown territory.",
        permission_classes=[ManagesTerritory],
    )
    async def invitations(
        self,
        info: Info,
        territory: Annotated[str, strawberry.argument(description="The territory id.")],
        first: First = None,
    ) -> list[Invitation]:
        territory_id = validate_territory_id(territory)
        record = await info.context.loaders.active_territory(territory_id)
        if record is None:
            raise NotFound("No such territory.")
        # A root list is read once per request: the request's read connection, no loader.
        async with info.context.loaders.reading(record.db_server, territory_id) as conn:
            rows = await invitation_db.page(conn, territory_id, after=None, limit=page_size(first))
        return [Invitation.from_record(r) for r in rows]

    @strawberry.field(
        description="Whether an invitation token can be used to register (for a signup page). "
        "Never an error: an unusable token answers `valid: false` and the reason.",
        permission_classes=[Public],
    )
    async def validate_invitation(
        self,
        info: Info,
        token: Annotated[str, strawberry.argument(description="The invitation token.")],
    ) -> InvitationCheck:
        try:
            territory_id = rules.territory_of(token)
            loader = info.context.loaders.get(INVITATION_BY_TOKEN_HASH, territory_id)
            found = await loader.load(secret_hash(token))
            if found is None:
                raise InvitationNotFound("No such invitation.")
            rules.check_usable(found.state, now=datetime.now(UTC), email=None)
        except InvitationInvalid as refused:
            return InvitationCheck(
                valid=False,
                code=refused.code,
                territory=None,
                email_required=False,
                expires_at=None,
            )
        return InvitationCheck(
            valid=True,
            code=None,
            territory=found.territory_id,
            email_required=found.email is not None,
            expires_at=found.expires_at,
        )


@strawberry.input(description="The terms of a new invitation into a territory.")
class CreateInvitationInput:
    territory: str = strawberry.field(description="The id of the territory to invite into.")
    email: str | None = strawberry.field(
        default=None,
        description="Bind it to this one address; null: anyone holding the token may register.",
    )
    max_uses: int = strawberry.field(
        default=1,
        description=f"How many accounts it may register, 1 to {rules.MAX_USES}.",
    )
    role: Role = strawberry.field(
        default=Role.MEMBER,
        description="The role it grants besides MEMBER; one you may grant yourself. "
        "GLOBAL_ADMIN only into the `global` territory.",
    )
    expires_in_hours: int = strawberry.field(
        default=168,
        description="Hours until it expires, 1 to 8784 (a year).",
    )


@strawberry.type(description="A new invitation; the token is shown this once and never again.")
class CreateInvitationPayload:
    token: str = strawberry.field(
        description="Hand it to the invitee: `register` takes it. Only its hash is stored."
    )
    invitation: Invitation = strawberry.field(description="The invitation as stored.")


@strawberry.input(description="The invitation to revoke.")
class RevokeInvitationInput:
    id: strawberry.ID = strawberry.field(description="The invitation's global id.")


@strawberry.type(description="A revoked invitation.")
class RevokeInvitationPayload:
    invitation: Invitation = strawberry.field(description="The invitation, now revoked.")
    revoked_now: bool = strawberry.field(
        description="True if this call revoked it; false if it was revoked already (nothing "
        "changed, nothing audited)."
    )


@strawberry.type
class InvitationMutations:
    @strawberry.mutation(
        description="Invite people into a territory; the token is returned once. FORBIDDEN "
        "unless you manage the territory and may grant the invitation's role yourself; "
        "BAD_USER_INPUT (with `extensions.field`) for terms out of range; NOT_FOUND for an "
        "unknown territory.",
        permission_classes=[IsAuthenticated],
    )
    async def create_invitation(
        self,
        info: Info,
        input: Annotated[
            CreateInvitationInput, strawberry.argument(description="The invitation's terms.")
        ],
    ) -> CreateInvitationPayload:
        with input_field("territory"):
            territory_id = validate_territory_id(input.territory)
        caller = info.context.caller
        if not can_manage_territory(caller.roles, territory_id):
            raise Forbidden("Only a manager of this territory may do this.")
        ttl = input.expires_in_hours * HOUR
        with input_field("maxUses"):
            rules.check_max_uses(input.max_uses)
        with input_field("expiresInHours"):
            rules.check_lifetime(ttl)
        with input_field("role"):
            rules.check_role(territory_id, input.role)
        grant = Grant(input.role, None if input.role is Role.GLOBAL_ADMIN else territory_id)
        if not can_assign(caller.roles, grant):
            raise Forbidden("You may not invite people into this role.")
        check_recipient(grant, territory_id)  # the invited account will be of territory_id
        with input_field("email"):
            email = None if input.email is None else validate_email(input.email)
        async with territory_change(info, territory_id) as change:
            token, record = await invitation_db.issue(
                change.conn,
                territory_id,
                email=email,
                max_uses=input.max_uses,
                role=input.role,
                ttl=timedelta(seconds=ttl),
                created_by=rules.recorded_creator(caller, territory_id),
            )
            change.audit(
                AuditAction.INVITATION_CREATED,
                target=str(record.id),
                details=invitation_db.created_details(record),
            )
        return CreateInvitationPayload(token=token, invitation=Invitation.from_record(record))

    @strawberry.mutation(
        description="Revoke an invitation: it registers no one any more. NOT_FOUND unless "
        "you manage its territory (or are a global admin), and for an unknown invitation; "
        "BAD_USER_INPUT for an id that is not an invitation's.",
        permission_classes=[IsAuthenticated],
    )
    async def revoke_invitation(
        self,
        info: Info,
        input: Annotated[
            RevokeInvitationInput, strawberry.argument(description="Which invitation.")
        ],
    ) -> RevokeInvitationPayload:
        territory_id, invitation_id = key_of(input.id, "Invitation", field="id")
        # Authorized on the id's territory; others learn nothing about whether it exists.
        if not can_manage_territory(info.context.caller.roles, territory_id):
            raise NotFound("No such invitation.")
        async with territory_change(info, territory_id) as change:
            found = await invitation_db.revoke_invitation(change.conn, territory_id, invitation_id)
            if found is None:
                raise NotFound("No such invitation.")
            record, revoked_now = found
            if revoked_now:
                change.audit(AuditAction.INVITATION_REVOKED, target=str(invitation_id))
        return RevokeInvitationPayload(
            invitation=Invitation.from_record(record), revoked_now=revoked_now
        )
