"""Root queries over communities, and community creation and membership mutations.

Every mutation runs in ONE ``territory_change`` of the community's territory that first locks the
community row, so membership checks (who is admin, the last-admin rule) cannot be raced; then it
authorizes, applies the rule, changes and audits, in that order. Changes made by someone else to
a membership (adds, removals, role changes) and community creation are audited in
``global.audit_log`` (ids only), in the same commit.
"""

from __future__ import annotations

import uuid
from typing import Annotated

import strawberry
from sqlalchemy.ext.asyncio import AsyncConnection

from db import communities as community_db
from db import users as user_db
from db.audit import AuditAction
from db.communities import CommunityRecord, MembershipRecord
from domain.communities import (
    CommunityRole,
    account_in,
    can_manage_members,
    check_admins_remain,
    hidden_from,
    validate_description,
    validate_name,
    validate_slug,
)
from domain.errors import BadUserInput, Forbidden, NotFound, input_field
from domain.events import (
    CommunityCreated,
    CommunityMemberJoined,
    CommunityMemberLeft,
    CommunityMemberRoleChanged,
    MemberLeftReason,
)
from domain.roles import can_manage_territory
from domain.territories import validate_territory_id
from graph import ids
from graph.context import Info
from graph.permissions import IsAuthenticated, Public
from graph.types.communities import (
    Community,
    CommunityMember,
    CommunityMembership,
    CommunityVisibility,
    community_by_id,
    community_node,
    membership_of,
    public_communities,
)
from graph.types.profiles import profile_sight
from graph.types.relay import After, Connection, First
from resolvers.common import Change, key_of, person_of, server_of, territory_change

COMMUNITY_ID = "communityId"
USER_ID = "userId"
COMMUNITY_ID_DESCRIPTION = "The community's global id (`Community.id`)."
USER_ID_DESCRIPTION = (
    "The person's `User` id (their `Profile` id names them too); an account of the community's "
    "territory."
)
MANAGERS_ONLY = (
    "FORBIDDEN unless you are an admin of the community or manage its territory (NOT_FOUND "
    "instead when it is invite-only and you are not a member)"
)


@strawberry.type
class CommunityQueries:
    @strawberry.field(
        description="A territory's public communities, by slug; invite-only ones are never "
        "listed. BAD_USER_INPUT for a malformed argument; NOT_FOUND when no active territory "
        "has that id.",
        permission_classes=[Public],
    )
    async def communities(
        self,
        info: Info,
        territory: Annotated[
            str,
            strawberry.argument(description="The territory id (`Territory.code`), e.g. `dk`."),
        ],
        first: First = None,
        after: After = None,
    ) -> Connection[Community]:
        with input_field("territory"):
            territory_id = validate_territory_id(territory)
        if await info.context.loaders.active_territory(territory_id) is None:
            raise NotFound(f"No territory '{territory}'.", field="territory")
        return await public_communities(info, territory_id, first=first, after=after)


# --- inputs and payloads, beside the mutation each belongs to


@strawberry.input(description="A new community in a territory you manage.")
class CreateCommunityInput:
    territory: str = strawberry.field(
        description="The territory to hold it (`Territory.code`); you must manage it."
    )
    slug: str = strawberry.field(
        description="Unique within the territory: lower-case letters and digits in groups "
        "joined by single hyphens, at most 64 characters (`repair-cafe`)."
    )
    name: str = strawberry.field(
        description="Display name: one line (line breaks become spaces), 1 to 120 characters."
    )
    description: str = strawberry.field(
        default="", description="What it is about; up to 2000 characters, lines allowed."
    )
    visibility: CommunityVisibility = strawberry.field(
        default=CommunityVisibility.PUBLIC, description="Who may find and join it."
    )


@strawberry.type(description="The result of `createCommunity`.")
class CreateCommunityPayload:
    community: Community = strawberry.field(
        description="The new community; you are its admin when you are an account of its territory."
    )


@strawberry.input(description="The public community to join.")
class JoinCommunityInput:
    community_id: strawberry.ID = strawberry.field(description=COMMUNITY_ID_DESCRIPTION)


@strawberry.type(description="The result of `joinCommunity`.")
class JoinCommunityPayload:
    membership: CommunityMembership = strawberry.field(
        description="Your membership, with the community."
    )
    joined: bool = strawberry.field(
        description="False when you were a member already (your role is left as it was)."
    )


@strawberry.input(description="The community to leave.")
class LeaveCommunityInput:
    community_id: strawberry.ID = strawberry.field(description=COMMUNITY_ID_DESCRIPTION)


@strawberry.type(description="The result of `leaveCommunity`.")
class LeaveCommunityPayload:
    community: Community | None = strawberry.field(
        description="The community as you now see it: null when you no longer can (an "
        "invite-only community shows itself only to its members and the territory's managers)."
    )
    was_member: bool = strawberry.field(
        description="False when you were not a member, so nothing changed."
    )


@strawberry.input(description="Who to add to which community.")
class AddCommunityMemberInput:
    community_id: strawberry.ID = strawberry.field(description=COMMUNITY_ID_DESCRIPTION)
    user_id: strawberry.ID = strawberry.field(description=USER_ID_DESCRIPTION)
    role: CommunityRole = strawberry.field(
        default=CommunityRole.MEMBER,
        description="Their role if they are not a member yet; MEMBER when omitted.",
    )


@strawberry.type(description="The result of `addCommunityMember`.")
class AddCommunityMemberPayload:
    community: Community = strawberry.field(description="The community.")
    member: CommunityMember = strawberry.field(description="The person as a member of it.")
    added: bool = strawberry.field(
        description="False when they were a member already: their role is left as it was."
    )


@strawberry.input(description="Who to remove, and out of which community.")
class RemoveCommunityMemberInput:
    community_id: strawberry.ID = strawberry.field(description=COMMUNITY_ID_DESCRIPTION)
    user_id: strawberry.ID = strawberry.field(description=USER_ID_DESCRIPTION)


@strawberry.type(description="The result of `removeCommunityMember`.")
class RemoveCommunityMemberPayload:
    community: Community = strawberry.field(description="The community.")
    removed_user_id: strawberry.ID = strawberry.field(
        description="The `User` id of the person named in the input."
    )
    was_member: bool = strawberry.field(
        description="False when they were not a member, so nothing changed."
    )


@strawberry.input(description="Whose role to change, in which community, to what.")
class SetCommunityMemberRoleInput:
    community_id: strawberry.ID = strawberry.field(description=COMMUNITY_ID_DESCRIPTION)
    user_id: strawberry.ID = strawberry.field(description=USER_ID_DESCRIPTION)
    role: CommunityRole = strawberry.field(description="Their new role.")


@strawberry.type(description="The result of `setCommunityMemberRole`.")
class SetCommunityMemberRolePayload:
    community: Community = strawberry.field(description="The community.")
    member: CommunityMember = strawberry.field(description="The member with their new role.")
    previous_role: CommunityRole = strawberry.field(
        description="Their role before; equal to `member.role` when nothing changed."
    )


# --- the steps every membership change shares


def _joined(
    territory_id: str, community: uuid.UUID, user: uuid.UUID, role: CommunityRole
) -> CommunityMemberJoined:
    return CommunityMemberJoined(
        territory_id=territory_id, community_id=community, user_id=user, role=role
    )


def _left(
    territory_id: str, community: uuid.UUID, user: uuid.UUID, reason: MemberLeftReason
) -> CommunityMemberLeft:
    return CommunityMemberLeft(
        territory_id=territory_id, community_id=community, user_id=user, reason=reason
    )


async def _community_key(info: Info, value: strawberry.ID) -> tuple[str, uuid.UUID]:
    """(territory, key) of a community id in an active territory; BAD_USER_INPUT or NOT_FOUND."""
    territory_id, key = key_of(value, "Community", field=COMMUNITY_ID)
    with input_field(COMMUNITY_ID):
        await server_of(info, territory_id)
    return territory_id, key


async def _lock(change: Change, key: uuid.UUID) -> CommunityRecord:
    record = await community_db.lock_community(change.conn, change.territory_id, key)
    if record is None:
        raise NotFound("No such community.", field=COMMUNITY_ID)
    return record


async def _caller_role(
    info: Info, conn: AsyncConnection, record: CommunityRecord
) -> CommunityRole | None:
    user_id = account_in(info.context.caller, record.territory_id)
    return None if user_id is None else await community_db.role_of(conn, record.id, user_id)


def _hidden(info: Info, record: CommunityRecord, role: CommunityRole | None) -> bool:
    return hidden_from(
        info.context.caller.roles,
        record.territory_id,
        is_public=record.is_public,
        caller_community_role=role,
    )


async def _require_manager(info: Info, conn: AsyncConnection, record: CommunityRecord) -> None:
    role = await _caller_role(info, conn, record)
    if not can_manage_members(info.context.caller.roles, record.territory_id, role):
        if _hidden(info, record, role):
            raise NotFound("No such community.", field=COMMUNITY_ID)
        raise Forbidden("Only this community's admins or the territory's managers may do this.")


async def _account_of(conn: AsyncConnection, territory_id: str, user: strawberry.ID) -> uuid.UUID:
    """An active account of ``territory_id`` named by ``user``; BAD_USER_INPUT or NOT_FOUND."""
    user_territory, user_id = person_of(user, field=USER_ID)
    if user_territory != territory_id:
        raise BadUserInput("Communities take accounts of their own territory only.", field=USER_ID)
    found = (await user_db.by_ids(conn, territory_id, [user_id])).get(user_id)
    if found is None or found.status != "active":
        raise NotFound("No such person.", field=USER_ID)
    return user_id


async def _community(info: Info, record: CommunityRecord) -> Community:
    node = await community_node(info, record)
    assert node is not None, "the change just committed in this active territory"
    return node


async def _membership(
    info: Info, territory_id: str, user_id: uuid.UUID, key: uuid.UUID
) -> CommunityMembership:
    found = await membership_of(info, territory_id, user_id, key)
    assert found is not None, "the membership just committed"
    return found


async def _member(
    info: Info, territory_id: str, user_id: uuid.UUID, key: uuid.UUID
) -> CommunityMember:
    found = await _membership(info, territory_id, user_id, key)
    record = MembershipRecord(key, user_id, found.role, found.joined_at)
    sight = await profile_sight(info, territory_id, user_id)
    return CommunityMember.from_row(territory_id, record, sight)


@strawberry.type
class CommunityMutations:
    @strawberry.mutation(
        description="Create a community in a territory you manage; you become its admin when "
        "you are an account of that territory. Audited. FORBIDDEN unless you manage the "
        "territory; BAD_USER_INPUT for a malformed field; NOT_FOUND when the territory is not "
        "active; ALREADY_EXISTS when the slug is taken there.",
        permission_classes=[IsAuthenticated],
    )
    async def create_community(
        self,
        info: Info,
        input: Annotated[
            CreateCommunityInput, strawberry.argument(description="The community to create.")
        ],
    ) -> CreateCommunityPayload:
        caller = info.context.caller
        with input_field("territory"):
            territory_id = validate_territory_id(input.territory)
        if not can_manage_territory(caller.roles, territory_id):
            raise Forbidden("Only a manager of this territory may do this.")
        with input_field("slug"):
            slug = validate_slug(input.slug)
        with input_field("name"):
            name = validate_name(input.name)
        with input_field("description"):
            description = validate_description(input.description)
        with input_field("territory"):
            await server_of(info, territory_id)
        async with territory_change(info, territory_id) as change:
            record = await community_db.create_community(
                change.conn,
                territory_id,
                slug=slug,
                name=name,
                description=description,
                is_public=input.visibility is CommunityVisibility.PUBLIC,
                creator=account_in(caller, territory_id),
            )
            change.audit(
                AuditAction.COMMUNITY_CREATED,
                target=str(record.id),
                details={"public": record.is_public},
            )
            change.emit(CommunityCreated(territory_id=territory_id, community_id=record.id))
        return CreateCommunityPayload(community=await _community(info, record))

    @strawberry.mutation(
        description="Join a public community of your own territory as a MEMBER. Invite-only "
        "communities are joined through one of their admins (`addCommunityMember`). "
        "BAD_USER_INPUT for a malformed id; FORBIDDEN for a community of another territory, "
        "or an invite-only one you see without being a member (as a territory manager); "
        "NOT_FOUND for a missing community or an invite-only one you cannot see.",
        permission_classes=[IsAuthenticated],
    )
    async def join_community(
        self,
        info: Info,
        input: Annotated[
            JoinCommunityInput, strawberry.argument(description="The community to join.")
        ],
    ) -> JoinCommunityPayload:
        territory_id, key = await _community_key(info, input.community_id)
        user_id = account_in(info.context.caller, territory_id)
        if user_id is None:
            raise Forbidden("Only accounts of this territory join its communities.")
        joined = False
        async with territory_change(info, territory_id) as change:
            record = await _lock(change, key)
            if await community_db.role_of(change.conn, key, user_id) is None:
                if _hidden(info, record, None):
                    raise NotFound("No such community.", field=COMMUNITY_ID)
                if not record.is_public:
                    raise Forbidden("This community is invite-only: ask one of its admins.")
                joined = await community_db.add(change.conn, key, user_id, CommunityRole.MEMBER)
                if joined:
                    change.emit(_joined(territory_id, key, user_id, CommunityRole.MEMBER))
        membership = await _membership(info, territory_id, user_id, key)
        return JoinCommunityPayload(membership=membership, joined=joined)

    @strawberry.mutation(
        description="Leave a community. The last admin cannot leave before appointing another "
        "(BAD_USER_INPUT); BAD_USER_INPUT for a malformed id; NOT_FOUND for a missing community "
        "of your territory or an invite-only one you cannot see.",
        permission_classes=[IsAuthenticated],
    )
    async def leave_community(
        self,
        info: Info,
        input: Annotated[
            LeaveCommunityInput, strawberry.argument(description="The community to leave.")
        ],
    ) -> LeaveCommunityPayload:
        territory_id, key = await _community_key(info, input.community_id)
        user_id = account_in(info.context.caller, territory_id)
        was_member = False
        if user_id is not None:  # accounts of other territories are members of none here
            async with territory_change(info, territory_id) as change:
                record = await _lock(change, key)
                role = await community_db.role_of(change.conn, key, user_id)
                if role is None and _hidden(info, record, None):
                    raise NotFound("No such community.", field=COMMUNITY_ID)
                if role is not None:
                    with input_field(COMMUNITY_ID):
                        check_admins_remain(
                            await community_db.admin_count(change.conn, key),
                            losing_admin=role is CommunityRole.ADMIN,
                        )
                    was_member = await community_db.remove(change.conn, key, user_id)
                    if was_member:
                        change.emit(_left(territory_id, key, user_id, MemberLeftReason.LEFT))
        community = await community_by_id(info, territory_id, key)
        return LeaveCommunityPayload(community=community, was_member=was_member)

    @strawberry.mutation(
        description="Add an account of the community's territory: the way into invite-only "
        "communities. Someone already a member keeps their role. Audited. "
        + MANAGERS_ONLY
        + "; BAD_USER_INPUT for a malformed id or a person of another territory; NOT_FOUND for "
        "a missing community or person.",
        permission_classes=[IsAuthenticated],
    )
    async def add_community_member(
        self,
        info: Info,
        input: Annotated[
            AddCommunityMemberInput,
            strawberry.argument(description="The community, the account and its role."),
        ],
    ) -> AddCommunityMemberPayload:
        territory_id, key = await _community_key(info, input.community_id)
        async with territory_change(info, territory_id) as change:
            record = await _lock(change, key)
            await _require_manager(info, change.conn, record)
            member = await _account_of(change.conn, territory_id, input.user_id)
            added = await community_db.add(change.conn, key, member, input.role)
            if added:
                change.audit(
                    AuditAction.COMMUNITY_MEMBER_ADDED,
                    target=str(key),
                    details={"user": str(member), "role": input.role.value},
                )
                change.emit(_joined(territory_id, key, member, input.role))
        return AddCommunityMemberPayload(
            community=await _community(info, record),
            member=await _member(info, territory_id, member, key),
            added=added,
        )

    @strawberry.mutation(
        description="Remove a member. Audited. "
        + MANAGERS_ONLY
        + "; BAD_USER_INPUT for a malformed id or when they are the last admin; NOT_FOUND for a "
        "missing community.",
        permission_classes=[IsAuthenticated],
    )
    async def remove_community_member(
        self,
        info: Info,
        input: Annotated[
            RemoveCommunityMemberInput,
            strawberry.argument(description="The community and the member to remove."),
        ],
    ) -> RemoveCommunityMemberPayload:
        territory_id, key = await _community_key(info, input.community_id)
        was_member = False
        async with territory_change(info, territory_id) as change:
            record = await _lock(change, key)
            await _require_manager(info, change.conn, record)
            user_territory, member = person_of(input.user_id, field=USER_ID)
            previous = await community_db.role_of(change.conn, key, member)
            if previous is not None:
                with input_field(USER_ID):
                    check_admins_remain(
                        await community_db.admin_count(change.conn, key),
                        losing_admin=previous is CommunityRole.ADMIN,
                    )
                was_member = await community_db.remove(change.conn, key, member)
                change.audit(
                    AuditAction.COMMUNITY_MEMBER_REMOVED,
                    target=str(key),
                    details={"user": str(member), "role": previous.value},
                )
                if was_member:
                    change.emit(_left(territory_id, key, member, MemberLeftReason.REMOVED))
        return RemoveCommunityMemberPayload(
            community=await _community(info, record),
            removed_user_id=strawberry.ID(ids.encode("User", user_territory, str(member))),
            was_member=was_member,
        )

    @strawberry.mutation(
        description="Change a member's role; audited when it changes. "
        + MANAGERS_ONLY
        + "; BAD_USER_INPUT for a malformed id, a person of another territory, or a demotion of "
        "the last admin; NOT_FOUND for a missing community or person, or someone who is not a "
        "member.",
        permission_classes=[IsAuthenticated],
    )
    async def set_community_member_role(
        self,
        info: Info,
        input: Annotated[
            SetCommunityMemberRoleInput,
            strawberry.argument(description="The community, the member and their new role."),
        ],
    ) -> SetCommunityMemberRolePayload:
        territory_id, key = await _community_key(info, input.community_id)
        async with territory_change(info, territory_id) as change:
            record = await _lock(change, key)
            await _require_manager(info, change.conn, record)
            member = await _account_of(change.conn, territory_id, input.user_id)
            previous = await community_db.role_of(change.conn, key, member)
            if previous is None:
                raise NotFound("That person is not a member of this community.", field=USER_ID)
            if previous is not input.role:
                with input_field("role"):
                    check_admins_remain(
                        await community_db.admin_count(change.conn, key),
                        losing_admin=previous is CommunityRole.ADMIN,
                    )
                await community_db.set_role(change.conn, key, member, input.role)
                change.audit(
                    AuditAction.COMMUNITY_ROLE_CHANGED,
                    target=str(key),
                    details={"user": str(member), "from": previous.value, "to": input.role.value},
                )
                change.emit(
                    CommunityMemberRoleChanged(
                        territory_id=territory_id,
                        community_id=key,
                        user_id=member,
                        role=input.role,
                        previous_role=previous,
                    )
                )
        return SetCommunityMemberRolePayload(
            community=await _community(info, record),
            member=await _member(info, territory_id, member, key),
            previous_role=previous,
        )
