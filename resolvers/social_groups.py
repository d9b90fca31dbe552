"""Social groups: the owner creates, renames and deletes them and adds or removes members.

Groups live in the owner's territory; members may be accounts of any territory and are checked
to exist (an active account) before they are added. Family and Friends cannot be renamed or
deleted: the FAMILY and FRIENDS visibilities are defined by them.
"""

from __future__ import annotations

import uuid

import strawberry
from sqlalchemy.ext.asyncio import AsyncConnection

from db import social_groups as group_db
from db.accounts import user_by_id as account_by_id
from db.social_groups import GroupRecord
from domain.communities import (
    GROUP_NAME_MAX,
    MAX_CUSTOM_GROUPS,
    MAX_GROUP_MEMBERS,
    validate_name,
)
from domain.errors import BadUserInput, NotFound
from graph.context import Info
from graph.permissions import IsAuthenticated
from graph.types.profiles import forget
from graph.types.social_groups import SocialGroup, groups_loader, members_loader
from resolvers.common import key_of, person_of, territory_transaction

RESERVED = frozenset({"family", "friends"})


def _group_name(value: str) -> str:
    name = validate_name(value, what="group name", limit=GROUP_NAME_MAX)
    if name.lower() in RESERVED:
        raise BadUserInput("Family and Friends already exist; choose another name.")
    return name


async def _owned(info: Info, group_id: strawberry.ID) -> tuple[str, uuid.UUID, uuid.UUID]:
    """(territory, owner, group key) of one of the caller's groups; NOT_FOUND otherwise."""
    territory_id, owner = info.context.caller.account()
    group_territory, key = key_of(group_id, "SocialGroup")
    if group_territory != territory_id:
        raise NotFound("No such group.")
    return territory_id, owner, key


async def _locked(conn: AsyncConnection, owner: uuid.UUID, key: uuid.UUID) -> GroupRecord:
    """The caller's group, row-locked for the rest of the transaction; NOT_FOUND otherwise."""
    await group_db.ensure_defaults(conn, owner)
    record = await group_db.group(conn, key, lock=True)
    if record is None or record.owner_id != owner:
        raise NotFound("No such group.")
    return record


async def _existing_person(info: Info, member: strawberry.ID) -> tuple[str, uuid.UUID]:
    territory_id, user_id = person_of(member)
    try:
        record = await account_by_id(info.context.db, territory_id, user_id)
    except NotFound:
        raise NotFound("No such person.") from None
    if record.status != "active":
        raise NotFound("No such person.")
    return territory_id, user_id


def _forget_groups(info: Info, territory_id: str, owner: uuid.UUID, key: uuid.UUID) -> None:
    groups_loader(info, territory_id).clear(owner)
    members_loader(info, territory_id).clear(key)
    forget(info, territory_id, owner)


@strawberry.type
class SocialGroupMutations:
    @strawberry.mutation(
        description=f"Create a custom group (at most {MAX_CUSTOM_GROUPS}).",
        permission_classes=[IsAuthenticated],
    )
    async def create_social_group(self, info: Info, name: str) -> SocialGroup:
        territory_id, owner = info.context.caller.account()
        clean = _group_name(name)
        async with territory_transaction(info, territory_id) as conn:
            await group_db.ensure_defaults(conn, owner)
            if await group_db.custom_count(conn, owner) >= MAX_CUSTOM_GROUPS:
                raise BadUserInput(f"You can keep at most {MAX_CUSTOM_GROUPS} custom groups.")
            record = await group_db.create(conn, owner, clean)
        _forget_groups(info, territory_id, owner, record.id)
        return SocialGroup.from_record(territory_id, record)

    @strawberry.mutation(
        description="Rename one of your custom groups.", permission_classes=[IsAuthenticated]
    )
    async def rename_social_group(self, info: Info, id: strawberry.ID, name: str) -> SocialGroup:
        territory_id, owner, key = await _owned(info, id)
        clean = _group_name(name)
        async with territory_transaction(info, territory_id) as conn:
            record = await _locked(conn, owner, key)
            if record.kind != "custom":
                raise BadUserInput("Family and Friends keep their names.")
            record = await group_db.rename(conn, key, clean)
        _forget_groups(info, territory_id, owner, key)
        return SocialGroup.from_record(territory_id, record)

    @strawberry.mutation(
        description="Delete one of your custom groups.", permission_classes=[IsAuthenticated]
    )
    async def delete_social_group(self, info: Info, id: strawberry.ID) -> bool:
        territory_id, owner, key = await _owned(info, id)
        async with territory_transaction(info, territory_id) as conn:
            record = await _locked(conn, owner, key)
            if record.kind != "custom":
                raise BadUserInput("Family and Friends cannot be deleted; remove members instead.")
            await group_db.delete_group(conn, key)
        _forget_groups(info, territory_id, owner, key)
        return True

    @strawberry.mutation(
        description="Add a person (their User or Profile id, any territory) to one of your "
        "groups; false if they were in it already.",
        permission_classes=[IsAuthenticated],
    )
    async def add_to_social_group(
        self, info: Info, group_id: strawberry.ID, user_id: strawberry.ID
    ) -> bool:
        territory_id, owner, key = await _owned(info, group_id)
        member_territory, member = await _existing_person(info, user_id)
        if (member_territory, member) == (territory_id, owner):
            raise BadUserInput("You cannot add yourself to your own group.")
        async with territory_transaction(info, territory_id) as conn:
            await _locked(conn, owner, key)
            if await group_db.member_count(conn, key) >= MAX_GROUP_MEMBERS:
                raise BadUserInput(f"A group has at most {MAX_GROUP_MEMBERS} members.")
            added = await group_db.add_member(conn, key, member_territory, member)
        _forget_groups(info, territory_id, owner, key)
        return added

    @strawberry.mutation(
        description="Take a person out of one of your groups; false if they were not in it.",
        permission_classes=[IsAuthenticated],
    )
    async def remove_from_social_group(
        self, info: Info, group_id: strawberry.ID, user_id: strawberry.ID
    ) -> bool:
        territory_id, owner, key = await _owned(info, group_id)
        member_territory, member = person_of(user_id)
        async with territory_transaction(info, territory_id) as conn:
            await _locked(conn, owner, key)
            removed = await group_db.remove_member(conn, key, member_territory, member)
        _forget_groups(info, territory_id, owner, key)
        return removed
