"""The owner's social groups. Only the owner ever reaches them (``User.socialGroups`` on oneself).

A member may live in any territory; their profile is shown through ``profile_view`` like any
other, so being in someone's group never shows more of a person than they allow.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from enum import StrEnum

import strawberry
from aiodataloader import DataLoader
from sqlalchemy.ext.asyncio import AsyncConnection

from db import social_groups as group_db
from db.social_groups import GroupRecord, MemberRef
from graph import ids
from graph.context import Info
from graph.types.profiles import PersonProfile
from graph.types.relay import PersonKey


class SocialGroupKind(StrEnum):
    FAMILY = "family"
    FRIENDS = "friends"
    CUSTOM = "custom"


SocialGroupKindEnum = strawberry.enum(
    SocialGroupKind,
    name="SocialGroupKind",
    description="FAMILY and FRIENDS exist for everyone and define the FAMILY and FRIENDS "
    "visibilities; CUSTOM groups are yours to make. Any of them can be named in a privacy "
    "setting (`setProfileVisibility`, `setFieldVisibility`): its members then see what it covers.",
)


@strawberry.type(description="Someone in one of your social groups.")
class SocialGroupMember(PersonProfile):
    member_id: strawberry.ID = strawberry.field(
        name="userId", description="The member's `User` id."
    )
    added_at: datetime


@strawberry.type(description="A group of people you keep (only you see your groups).")
class SocialGroup:
    id: strawberry.ID
    name: str
    kind: SocialGroupKind
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
        found = await members_loader(info, self.territory_code).load(self.key)
        return [
            SocialGroupMember(
                member_id=strawberry.ID(ids.encode("User", m.territory_id, str(m.user_id))),
                added_at=m.added_at,
                territory_code=m.territory_id,
                user_id=m.user_id,
            )
            for m in found
        ]


async def _groups(
    conn: AsyncConnection, territory_id: str, keys: list[uuid.UUID]
) -> list[list[GroupRecord]]:
    found = await group_db.groups_of(conn, keys)
    return [found.get(k, []) for k in keys]


async def _members(
    conn: AsyncConnection, territory_id: str, keys: list[uuid.UUID]
) -> list[list[MemberRef]]:
    found = await group_db.members_of(conn, keys)
    return [found.get(k, []) for k in keys]


def groups_loader(info: Info, territory_id: str) -> DataLoader[uuid.UUID, list[GroupRecord]]:
    none: list[GroupRecord] = []
    return info.context.loaders.in_territory(territory_id, "social_groups", _groups, missing=none)


def members_loader(info: Info, territory_id: str) -> DataLoader[uuid.UUID, list[MemberRef]]:
    none: list[MemberRef] = []
    return info.context.loaders.in_territory(
        territory_id, "social_group_members", _members, missing=none
    )


async def groups_of_owner(info: Info, territory_id: str, owner: uuid.UUID) -> list[SocialGroup]:
    """The owner's groups, Family and Friends first even before they were ever written.

    Default groups have ids derived from the owner (``default_group_id``), so a read never has
    to write them: the first change (``ensure_defaults``) creates them under the same ids.
    """
    found = await groups_loader(info, territory_id).load(owner)
    kinds = {g.kind for g in found}
    now = datetime.now(UTC)
    defaults = [
        GroupRecord(group_db.default_group_id(owner, kind), owner, kind, name, now)
        for kind, name in group_db.DEFAULT_GROUPS
        if kind not in kinds
    ]
    return [
        SocialGroup.from_record(territory_id, g)
        for g in sorted(
            [*defaults, *found], key=lambda g: (g.kind == "custom", g.kind, g.name.lower())
        )
    ]


@strawberry.type
class UserSocialGroups(PersonKey):
    """``User.socialGroups``."""

    @strawberry.field(
        description="Your social groups (Family, Friends first). Null unless you own them."
    )
    async def social_groups(self, info: Info) -> list[SocialGroup] | None:
        caller = info.context.caller
        if caller.territory_id != self.territory_code or caller.user_id != str(self.user_id):
            return None
        return await groups_of_owner(info, self.territory_code, self.user_id)
