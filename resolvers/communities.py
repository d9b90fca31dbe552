"""Root queries over communities, and community creation and membership mutations.

Each mutation runs in ONE transaction of the community's territory that first locks the
community row, so membership checks (who is admin, the last-admin rule) cannot be raced. Changes
made by someone else to a membership (adds, removals, role changes) and community creation are
audited in ``global.audit_log`` (ids only).
"""

from __future__ import annotations

import uuid

import strawberry
from sqlalchemy.ext.asyncio import AsyncConnection

from db import memberships as membership_db
from db import users as user_db
from db.audit import AuditAction
from db.communities import CommunityRecord
from domain.communities import (
    CommunityRole,
    can_manage_members,
    check_admins_remain,
    validate_description,
    validate_name,
    validate_slug,
)
from domain.errors import BadUserInput, Forbidden, NotFound
from domain.roles import can_manage_territory
from domain.territories import validate_territory_id
from graph.context import Info
from graph.permissions import IsAuthenticated, ManagesTerritory, Public
from graph.types.communities import (
    Community,
    CommunityMember,
    CommunityMembership,
    CommunityVisibility,
    community_node,
    memberships_loader,
    public_communities,
)
from graph.types.relay import Connection
from resolvers.common import actor_identity, key_of, person_of, server_of


@strawberry.type
class CommunityQueries:
    @strawberry.field(
        description="A territory's public communities, by slug.", permission_classes=[Public]
    )
    async def communities(
        self, info: Info, territory: str, first: int | None = None, after: str | None = None
    ) -> Connection[Community]:
        territory_id = validate_territory_id(territory)
        if await info.context.loaders.active_territory(territory_id) is None:
            raise NotFound(f"No territory '{territory}'.")
        return await public_communities(info, territory_id, first=first, after=after)


@strawberry.input(description="A new community in a territory you manage.")
class CreateCommunityInput:
    territory: str
    slug: str = strawberry.field(description="Lower-case letters and digits joined by hyphens.")
    name: str
    description: str = ""
    visibility: CommunityVisibility = CommunityVisibility.PUBLIC


async def _in_community(info: Info, community_id: strawberry.ID) -> tuple[str, uuid.UUID, str]:
    """(territory, community key, server) of a community id; BAD_USER_INPUT or NOT_FOUND."""
    territory_id, key = key_of(community_id, "Community")
    return territory_id, key, await server_of(info, territory_id)


async def _locked(conn: AsyncConnection, territory_id: str, key: uuid.UUID) -> CommunityRecord:
    record = await membership_db.lock_community(conn, territory_id, key)
    if record is None:
        raise NotFound("No such community.")
    return record


async def _caller_role(
    info: Info, conn: AsyncConnection, territory_id: str, key: uuid.UUID
) -> CommunityRole | None:
    caller = info.context.caller
    if caller.territory_id != territory_id or caller.user_id is None:
        return None
    return await membership_db.role_of(conn, key, uuid.UUID(caller.user_id))


def _hidden(info: Info, record: CommunityRecord, role: CommunityRole | None) -> bool:
    """An invite-only community is invisible to all but its members and the territory's
    managers: to anyone else it must look like a missing one (NOT_FOUND, never FORBIDDEN)."""
    return (
        not record.is_public
        and role is None
        and not can_manage_territory(info.context.caller.roles, record.territory_id)
    )


async def _require_manager(info: Info, conn: AsyncConnection, record: CommunityRecord) -> None:
    role = await _caller_role(info, conn, record.territory_id, record.id)
    if not can_manage_members(info.context.caller.roles, record.territory_id, role):
        if _hidden(info, record, role):
            raise NotFound("No such community.")
        raise Forbidden("Only this community's admins or the territory's managers may do this.")


async def _member_of_territory(
    info: Info, conn: AsyncConnection, territory_id: str, user: strawberry.ID
) -> uuid.UUID:
    user_territory, user_id = person_of(user)
    if user_territory != territory_id:
        raise BadUserInput("Communities take accounts of their own territory only.")
    found = (await user_db.by_ids(conn, territory_id, [user_id])).get(user_id)
    if found is None or found.status != "active":
        raise NotFound("No such person.")
    return user_id


def _forget(info: Info, territory_id: str, user_id: uuid.UUID) -> None:
    memberships_loader(info, territory_id).clear(user_id)


async def _membership(
    info: Info, territory_id: str, user_id: uuid.UUID, key: uuid.UUID
) -> CommunityMembership:
    _forget(info, territory_id, user_id)
    for membership, record in await memberships_loader(info, territory_id).load(user_id):
        if membership.community_id == key:
            node = await community_node(info, record)
            assert node is not None
            return CommunityMembership(
                community=node, role=membership.role, joined_at=membership.joined_at
            )
    raise NotFound("No such membership.")


async def _member(
    info: Info, territory_id: str, user_id: uuid.UUID, key: uuid.UUID
) -> CommunityMember:
    found = await _membership(info, territory_id, user_id, key)
    return CommunityMember(
        role=found.role, joined_at=found.joined_at, territory_code=territory_id, user_id=user_id
    )


@strawberry.type
class CommunityMutations:
    @strawberry.mutation(
        description="Create a community (territory managers); you become its admin.",
        permission_classes=[ManagesTerritory],
    )
    async def create_community(self, info: Info, input: CreateCommunityInput) -> Community:
        territory_id = validate_territory_id(input.territory)
        slug = validate_slug(input.slug)
        name = validate_name(input.name)
        description = validate_description(input.description)
        server = await server_of(info, territory_id)
        caller = info.context.caller
        creator = (
            uuid.UUID(caller.user_id)
            if caller.territory_id == territory_id and caller.user_id
            else None
        )
        async with info.context.db.transaction(server, territory_id) as conn:
            record = await membership_db.create_community(
                conn,
                territory_id,
                slug=slug,
                name=name,
                description=description,
                is_public=input.visibility is CommunityVisibility.PUBLIC,
                creator=creator,
            )
            await membership_db.audit_in_step(
                info.context.db,
                server,
                conn,
                AuditAction.COMMUNITY_CREATED,
                actor=actor_identity(info),
                territory_id=territory_id,
                target=str(record.id),
                details={"public": record.is_public},
            )
        node = await community_node(info, record)
        assert node is not None
        return node

    @strawberry.mutation(
        description="Join a public community of your territory. Invite-only communities are "
        "joined through one of their admins (`addCommunityMember`).",
        permission_classes=[IsAuthenticated],
    )
    async def join_community(self, info: Info, id: strawberry.ID) -> CommunityMembership:
        caller_territory, user_id = info.context.caller.account()
        territory_id, key, server = await _in_community(info, id)
        if territory_id != caller_territory:
            raise Forbidden("Only accounts of this territory join its communities.")
        async with info.context.db.transaction(server, territory_id) as conn:
            record = await _locked(conn, territory_id, key)
            if await membership_db.role_of(conn, key, user_id) is None:
                if _hidden(info, record, None):
                    raise NotFound("No such community.")
                if not record.is_public:
                    raise Forbidden("This community is invite-only: ask one of its admins.")
                await membership_db.add(conn, key, user_id, CommunityRole.MEMBER)
        return await _membership(info, territory_id, user_id, key)

    @strawberry.mutation(
        description="Leave a community; false if you were not a member. The last admin cannot "
        "leave before appointing another.",
        permission_classes=[IsAuthenticated],
    )
    async def leave_community(self, info: Info, id: strawberry.ID) -> bool:
        caller_territory, user_id = info.context.caller.account()
        territory_id, key, server = await _in_community(info, id)
        if territory_id != caller_territory:
            return False
        async with info.context.db.transaction(server, territory_id) as conn:
            await _locked(conn, territory_id, key)
            role = await membership_db.role_of(conn, key, user_id)
            if role is None:
                return False
            check_admins_remain(
                await membership_db.admin_count(conn, key),
                losing_admin=role is CommunityRole.ADMIN,
            )
            await membership_db.remove(conn, key, user_id)
        _forget(info, territory_id, user_id)
        return True

    @strawberry.mutation(
        description="Add an account of the community's territory (community admins, territory "
        "managers): the way into invite-only communities. Existing members keep their role.",
        permission_classes=[IsAuthenticated],
    )
    async def add_community_member(
        self,
        info: Info,
        community_id: strawberry.ID,
        user_id: strawberry.ID,
        role: CommunityRole = CommunityRole.MEMBER,
    ) -> CommunityMember:
        territory_id, key, server = await _in_community(info, community_id)
        async with info.context.db.transaction(server, territory_id) as conn:
            await _require_manager(info, conn, await _locked(conn, territory_id, key))
            member = await _member_of_territory(info, conn, territory_id, user_id)
            if await membership_db.add(conn, key, member, role):
                await membership_db.audit_in_step(
                    info.context.db,
                    server,
                    conn,
                    AuditAction.COMMUNITY_MEMBER_ADDED,
                    actor=actor_identity(info),
                    territory_id=territory_id,
                    target=str(key),
                    details={"user": str(member), "role": role.value},
                )
        return await _member(info, territory_id, member, key)

    @strawberry.mutation(
        description="Remove a member (community admins, territory managers); false if they "
        "were not one. The last admin cannot be removed.",
        permission_classes=[IsAuthenticated],
    )
    async def remove_community_member(
        self, info: Info, community_id: strawberry.ID, user_id: strawberry.ID
    ) -> bool:
        territory_id, key, server = await _in_community(info, community_id)
        async with info.context.db.transaction(server, territory_id) as conn:
            await _require_manager(info, conn, await _locked(conn, territory_id, key))
            _, member = person_of(user_id)
            previous = await membership_db.role_of(conn, key, member)
            if previous is None:
                return False
            check_admins_remain(
                await membership_db.admin_count(conn, key),
                losing_admin=previous is CommunityRole.ADMIN,
            )
            await membership_db.remove(conn, key, member)
            await membership_db.audit_in_step(
                info.context.db,
                server,
                conn,
                AuditAction.COMMUNITY_MEMBER_REMOVED,
                actor=actor_identity(info),
                territory_id=territory_id,
                target=str(key),
                details={"user": str(member), "role": previous.value},
            )
        _forget(info, territory_id, member)
        return True

    @strawberry.mutation(
        description="Change a member's role (community admins, territory managers); audited. "
        "The last admin cannot be demoted.",
        permission_classes=[IsAuthenticated],
    )
    async def set_community_member_role(
        self, info: Info, community_id: strawberry.ID, user_id: strawberry.ID, role: CommunityRole
    ) -> CommunityMember:
        territory_id, key, server = await _in_community(info, community_id)
        async with info.context.db.transaction(server, territory_id) as conn:
            await _require_manager(info, conn, await _locked(conn, territory_id, key))
            member = await _member_of_territory(info, conn, territory_id, user_id)
            previous = await membership_db.role_of(conn, key, member)
            if previous is None:
                raise NotFound("That person is not a member of this community.")
            if previous is not role:
                check_admins_remain(
                    await membership_db.admin_count(conn, key),
                    losing_admin=previous is CommunityRole.ADMIN,
                )
                await membership_db.set_role(conn, key, member, role)
                await membership_db.audit_in_step(
                    info.context.db,
                    server,
                    conn,
                    AuditAction.COMMUNITY_ROLE_CHANGED,
                    actor=actor_identity(info),
                    territory_id=territory_id,
                    target=str(key),
                    details={"user": str(member), "from": previous.value, "to": role.value},
                )
        return await _member(info, territory_id, member, key)
