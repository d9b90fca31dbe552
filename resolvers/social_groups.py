"""Social groups: the owner creates, renames and deletes them and adds or removes members.

Groups live in the owner's territory; members may be accounts of any territory and are checked
to exist (an active account) before they are added. Family and Friends cannot be renamed or
deleted: the FAMILY and FRIENDS visibilities are defined by them.
"""

from __future__ import annotations

import uuid
from typing import Annotated

import strawberry
from sqlalchemy.ext.asyncio import AsyncConnection

from db import social_groups as group_db
from db.accounts import user_by_id as account_by_id
from db.social_groups import GroupRecord
from domain.errors import NotFound, input_field
from domain.social_groups import (
    GROUP_NAME_MAX,
    MAX_CUSTOM_GROUPS,
    MAX_GROUP_MEMBERS,
    SocialGroupKind,
    check_deletable,
    check_not_self,
    check_renamable,
    check_room_for_group,
    check_room_for_member,
    validate_group_name,
)
from graph import ids
from graph.context import Info
from graph.loaders.social_groups import MEMBERS_OF_GROUP
from graph.permissions import IsAuthenticated
from graph.types.relay import Node
from graph.types.social_groups import SocialGroup, SocialGroupMember, own_group
from resolvers.common import key_of, person_of, territory_change

SIGNED_IN = "UNAUTHENTICATED without a login. "
NOT_YOURS = "NOT_FOUND for a group that is not yours (or no longer exists). "


async def social_group_node(info: Info, key: ids.NodeKey) -> Node | None:
    """``node`` on a SocialGroup id: only its owner finds it."""
    return await own_group(info, key.territory_id, ids.parse_uuid(key.key))


# --- inputs and payloads


@strawberry.input(description="A custom group to create.")
class CreateSocialGroupInput:
    name: str = strawberry.field(
        description=f"1-{GROUP_NAME_MAX} characters, one line; not Family or Friends, and not a "
        "name you already use."
    )


@strawberry.type(description="The result of `createSocialGroup`.")
class CreateSocialGroupPayload:
    social_group: SocialGroup = strawberry.field(description="The new group, without members.")


@strawberry.input(description="A new name for one of your custom groups.")
class RenameSocialGroupInput:
    id: strawberry.ID = strawberry.field(description="The `SocialGroup` id.")
    name: str = strawberry.field(
        description=f"1-{GROUP_NAME_MAX} characters, one line; not Family or Friends, and not a "
        "name you already use."
    )


@strawberry.type(description="The result of `renameSocialGroup`.")
class RenameSocialGroupPayload:
    social_group: SocialGroup = strawberry.field(description="The group under its new name.")


@strawberry.input(description="Which of your custom groups to delete.")
class DeleteSocialGroupInput:
    id: strawberry.ID = strawberry.field(description="The `SocialGroup` id.")


@strawberry.type(description="The result of `deleteSocialGroup`.")
class DeleteSocialGroupPayload:
    deleted_id: strawberry.ID = strawberry.field(
        description="The id of the deleted group; what it was shared in is gone with it."
    )


@strawberry.input(description="A person and one of your groups.")
class AddToSocialGroupInput:
    group_id: strawberry.ID = strawberry.field(description="The `SocialGroup` id.")
    user_id: strawberry.ID = strawberry.field(
        description="Their `User` or `Profile` id, any territory; not your own."
    )


@strawberry.type(description="The result of `addToSocialGroup`.")
class AddToSocialGroupPayload:
    social_group: SocialGroup = strawberry.field(description="The group.")
    was_member: bool = strawberry.field(
        description="True when the person was in the group already (nothing changed); false "
        "when this call added them."
    )
    member_territory: strawberry.Private[str]
    member_key: strawberry.Private[uuid.UUID]

    @strawberry.field(description="The person as a member of the group.")
    async def member(self, info: Info) -> SocialGroupMember:
        group = self.social_group
        loader = info.context.loaders.get(MEMBERS_OF_GROUP, group.territory_code)
        person = (self.member_territory, self.member_key)
        for ref in await loader.load(group.key):
            if (ref.territory_id, ref.user_id) == person:
                return SocialGroupMember.from_ref(ref)
        # Only when a concurrent request took them out again before this field was read.
        raise NotFound("They are no longer in the group.")


@strawberry.input(description="A person and one of your groups.")
class RemoveFromSocialGroupInput:
    group_id: strawberry.ID = strawberry.field(description="The `SocialGroup` id.")
    user_id: strawberry.ID = strawberry.field(description="Their `User` or `Profile` id.")


@strawberry.type(description="The result of `removeFromSocialGroup`.")
class RemoveFromSocialGroupPayload:
    social_group: SocialGroup = strawberry.field(description="The group.")
    removed_user_id: strawberry.ID = strawberry.field(
        description="The person's `User` id (also when `userId` named their profile)."
    )
    was_member: bool = strawberry.field(
        description="True when the person was in the group and is no longer; false when they "
        "were not in it (nothing changed)."
    )


# --- rules applied before a change


def _owned(info: Info, group_id: strawberry.ID, field: str) -> tuple[str, uuid.UUID, uuid.UUID]:
    """(territory, owner, group key) of a group id in the caller's territory; NOT_FOUND
    otherwise (whose it is is checked under the row lock, ``_locked``)."""
    territory_id, owner = info.context.caller.account()
    group_territory, key = key_of(group_id, "SocialGroup", field=field)
    if group_territory != territory_id:
        raise NotFound("No such group.", field=field)
    return territory_id, owner, key


async def _locked(
    conn: AsyncConnection, owner: uuid.UUID, key: uuid.UUID, field: str
) -> GroupRecord:
    """The caller's group, row-locked for the rest of the transaction; NOT_FOUND otherwise."""
    await group_db.ensure_defaults(conn, owner)
    record = await group_db.group(conn, key, lock=True)
    if record is None or record.owner_id != owner:
        raise NotFound("No such group.", field=field)
    return record


async def _existing_person(info: Info, member: strawberry.ID) -> tuple[str, uuid.UUID]:
    territory_id, user_id = person_of(member, field="userId")
    try:
        record = await account_by_id(info.context.db, territory_id, user_id)
    except NotFound:
        raise NotFound("No such person.", field="userId") from None
    if record.status != "active":
        raise NotFound("No such person.", field="userId")
    return territory_id, user_id


def _user_id(territory_id: str, user_id: uuid.UUID) -> strawberry.ID:
    return strawberry.ID(ids.encode("User", territory_id, str(user_id)))


@strawberry.type
class SocialGroupMutations:
    @strawberry.mutation(
        description=f"Create a custom group (at most {MAX_CUSTOM_GROUPS}). "
        + SIGNED_IN
        + "BAD_USER_INPUT (`extensions.field`: name) for an empty, too long or reserved name; "
        "ALREADY_EXISTS (name) for a name you already use; BAD_USER_INPUT without a field when "
        "you have as many groups as allowed.",
        permission_classes=[IsAuthenticated],
    )
    async def create_social_group(
        self,
        info: Info,
        input: Annotated[CreateSocialGroupInput, strawberry.argument(description="The group.")],
    ) -> CreateSocialGroupPayload:
        territory_id, owner = info.context.caller.account()
        with input_field("name"):
            name = validate_group_name(input.name)
        async with territory_change(info, territory_id) as change:
            await group_db.ensure_defaults(change.conn, owner)
            check_room_for_group(await group_db.custom_count(change.conn, owner))
            with input_field("name"):
                record = await group_db.create(change.conn, owner, name)
        return CreateSocialGroupPayload(social_group=SocialGroup.from_record(territory_id, record))

    @strawberry.mutation(
        description="Rename one of your custom groups. "
        + SIGNED_IN
        + NOT_YOURS
        + "BAD_USER_INPUT (`extensions.field`: id) for Family and Friends or an id of another "
        "type; (name) for an empty, too long or reserved name; ALREADY_EXISTS (name) for a name "
        "you already use.",
        permission_classes=[IsAuthenticated],
    )
    async def rename_social_group(
        self,
        info: Info,
        input: Annotated[RenameSocialGroupInput, strawberry.argument(description="The change.")],
    ) -> RenameSocialGroupPayload:
        territory_id, owner, key = _owned(info, input.id, "id")
        with input_field("name"):
            name = validate_group_name(input.name)
        async with territory_change(info, territory_id) as change:
            record = await _locked(change.conn, owner, key, "id")
            with input_field("id"):
                check_renamable(SocialGroupKind(record.kind))
            with input_field("name"):
                record = await group_db.rename(change.conn, key, name)
        return RenameSocialGroupPayload(social_group=SocialGroup.from_record(territory_id, record))

    @strawberry.mutation(
        description="Delete one of your custom groups, and what you shared with it. "
        + SIGNED_IN
        + NOT_YOURS
        + "BAD_USER_INPUT (`extensions.field`: id) for Family and Friends or an id of another "
        "type.",
        permission_classes=[IsAuthenticated],
    )
    async def delete_social_group(
        self,
        info: Info,
        input: Annotated[DeleteSocialGroupInput, strawberry.argument(description="The group.")],
    ) -> DeleteSocialGroupPayload:
        territory_id, owner, key = _owned(info, input.id, "id")
        async with territory_change(info, territory_id) as change:
            record = await _locked(change.conn, owner, key, "id")
            with input_field("id"):
                check_deletable(SocialGroupKind(record.kind))
            await group_db.delete_group(change.conn, key)
        return DeleteSocialGroupPayload(deleted_id=input.id)

    @strawberry.mutation(
        description="Add a person (any territory) to one of your groups; adding someone already "
        "in it changes nothing (`wasMember`). "
        + SIGNED_IN
        + NOT_YOURS
        + "NOT_FOUND (`extensions.field`: userId) for no such active person; BAD_USER_INPUT "
        f"(userId) for yourself; BAD_USER_INPUT without a field beyond {MAX_GROUP_MEMBERS} "
        "members.",
        permission_classes=[IsAuthenticated],
    )
    async def add_to_social_group(
        self,
        info: Info,
        input: Annotated[AddToSocialGroupInput, strawberry.argument(description="Who and where.")],
    ) -> AddToSocialGroupPayload:
        territory_id, owner, key = _owned(info, input.group_id, "groupId")
        member_territory, member = await _existing_person(info, input.user_id)
        with input_field("userId"):
            check_not_self(info.context.caller.is_account(member_territory, member))
        async with territory_change(info, territory_id) as change:
            record = await _locked(change.conn, owner, key, "groupId")
            check_room_for_member(await group_db.member_count(change.conn, key))
            added = await group_db.add_member(change.conn, key, member_territory, member)
        return AddToSocialGroupPayload(
            social_group=SocialGroup.from_record(territory_id, record),
            was_member=not added,
            member_territory=member_territory,
            member_key=member,
        )

    @strawberry.mutation(
        description="Take a person out of one of your groups; taking out someone not in it "
        "changes nothing (`wasMember`). " + SIGNED_IN + NOT_YOURS + "BAD_USER_INPUT "
        "(`extensions.field`: groupId or userId) for an id of the wrong type.",
        permission_classes=[IsAuthenticated],
    )
    async def remove_from_social_group(
        self,
        info: Info,
        input: Annotated[
            RemoveFromSocialGroupInput, strawberry.argument(description="Who and where.")
        ],
    ) -> RemoveFromSocialGroupPayload:
        territory_id, owner, key = _owned(info, input.group_id, "groupId")
        member_territory, member = person_of(input.user_id, field="userId")
        async with territory_change(info, territory_id) as change:
            record = await _locked(change.conn, owner, key, "groupId")
            removed = await group_db.remove_member(change.conn, key, member_territory, member)
        return RemoveFromSocialGroupPayload(
            social_group=SocialGroup.from_record(territory_id, record),
            removed_user_id=_user_id(member_territory, member),
            was_member=removed,
        )
