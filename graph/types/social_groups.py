"""The owner's social groups. Only the owner ever reaches them (``User.socialGroups`` on oneself,
``node`` on a group id).

A member may live in any territory; their profile is shown through ``profile_view`` like any
other, so being in someone's group never shows more of a person than they allow.
"""

from __future__ import annotations

import uuid
from datetime import datetime

import strawberry

from db.social_groups import GroupRecord, MemberRef
from domain.social_groups import SocialGroupKind
from graph import ids
from graph.context import Info
from graph.loaders.social_groups import GROUPS_OF_OWNER, MEMBERS_OF_GROUP
from graph.types.enums import described_enum
from graph.types.profiles import PersonProfile
from graph.types.relay import Node, PersonKey

SocialGroupKindEnum = described_enum(
    SocialGroupKind,
    name="SocialGroupKind",
    description="What kind of group it is. Any group can be named in a privacy setting "
    "(`setProfileVisibility`, `setFieldVisibility`): its members then see what it covers.",
    values={
        SocialGroupKind.FAMILY: "Your Family group: exists for everyone, cannot be renamed or "
        "deleted; its members are the FAMILY visibility.",
        SocialGroupKind.FRIENDS: "Your Friends group: exists for everyone, cannot be renamed or "
        "deleted; its members are the FRIENDS visibility (with FAMILY).",
        SocialGroupKind.CUSTOM: "A group you made (`createSocialGroup`); it sets no relation, it "
        "only grants what a setting shares with it.",
    },
)


@strawberry.type(description="Someone in one of your social groups.")
class SocialGroupMember(PersonProfile):
    member_id: strawberry.ID = strawberry.field(
        name="userId", description="The member's `User` id (any territory)."
    )
    added_at: datetime = strawberry.field(description="When you added them.")

    @classmethod
    def from_ref(cls, ref: MemberRef) -> SocialGroupMember:
        return cls(
            member_id=strawberry.ID(ids.encode("User", ref.territory_id, str(ref.user_id))),
            added_at=ref.added_at,
            territory_code=ref.territory_id,
            user_id=ref.user_id,
        )


@strawberry.type(
    description="A group of people you keep. Only you see your groups, through "
    "`User.socialGroups` or `node`; for anyone else a group id is NOT_FOUND."
)
class SocialGroup(Node):
    name: str = strawberry.field(description="Unique among your groups, case-insensitively.")
    kind: SocialGroupKind = strawberry.field(description="Family, Friends or one of yours.")
    territory_code: strawberry.Private[str]
    key: strawberry.Private[uuid.UUID]

    @classmethod
    def from_record(cls, territory_id: str, record: GroupRecord) -> SocialGroup:
        return cls(
            id=strawberry.ID(ids.encode("SocialGroup", territory_id, str(record.id))),
            name=record.name,
            kind=SocialGroupKind(record.kind),
            territory_code=territory_id,
            key=record.id,
        )

    @strawberry.field(description="Members, oldest first.")
    async def members(self, info: Info) -> list[SocialGroupMember]:
        found = await info.context.loaders.get(MEMBERS_OF_GROUP, self.territory_code).load(self.key)
        return [SocialGroupMember.from_ref(m) for m in found]


async def groups_of_owner(info: Info, territory_id: str, owner: uuid.UUID) -> list[SocialGroup]:
    """The owner's groups, Family and Friends first even before they were ever written."""
    found = await info.context.loaders.get(GROUPS_OF_OWNER, territory_id).load(owner)
    return [SocialGroup.from_record(territory_id, g) for g in found]


async def own_group(info: Info, territory_id: str, key: uuid.UUID) -> SocialGroup | None:
    """One of the caller's groups (unwritten Family and Friends too); None for anyone else's.

    Read through the caller's own group list, so a group can only ever be found by its owner.
    """
    caller = info.context.caller
    if not caller.is_authenticated:
        return None
    _, owner = caller.account()
    if not caller.is_account(territory_id, owner):  # the same user id elsewhere: someone else
        return None
    for group in await groups_of_owner(info, territory_id, owner):
        if group.key == key:
            return group
    return None


@strawberry.type
class UserSocialGroups(PersonKey):
    """``User.socialGroups``."""

    @strawberry.field(
        description="Your social groups (Family, Friends first). Null unless you own them."
    )
    async def social_groups(self, info: Info) -> list[SocialGroup] | None:
        if not info.context.caller.is_account(self.territory_code, self.user_id):
            return None
        return await groups_of_owner(info, self.territory_code, self.user_id)
