"""User accounts as the graph shows them: to themselves and to those who manage their territory.

A ``User`` is only ever built after the root field or ``node`` lookup decided the caller may see
it (``visible``). Everyone else meets a person through their ``Profile`` (graph/types/profile.py),
governed by the person's privacy settings; ``User.profile`` goes through the same enforcement, so
a manager reading an account sees the profile only as far as its owner allows. Settings (privacy,
notifications, social groups) are the owner's alone.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import TYPE_CHECKING, Annotated

import strawberry
from sqlalchemy.ext.asyncio import AsyncConnection

from db import roles as role_db
from db import users as user_db
from db.users import UserRecord
from domain.callers import Caller
from domain.roles import Grant, Role, can_read_accounts
from graph import ids
from graph.context import Info
from graph.types.relay import Node

if TYPE_CHECKING:
    from graph.types.membership import CommunityMembership
    from graph.types.profile import NotificationPreferencesType, PrivacySettings, Profile
    from graph.types.social_group import SocialGroup
    from graph.types.territory import Territory

RoleEnum = strawberry.enum(Role, name="Role", description="What a role grant allows.")


@strawberry.type(description="One role a user holds, in one territory or (global admin) all.")
class RoleGrant:
    role: Role
    territory: str | None = strawberry.field(description="Territory id; null for global admin.")


@strawberry.type(description="A person's account in the territory that holds their data.")
class User(Node):
    username: str
    email: str
    display_name: str
    created_at: datetime
    territory_code: strawberry.Private[str]
    user_id: strawberry.Private[uuid.UUID]

    @classmethod
    def from_record(cls, record: UserRecord) -> User:
        return cls(
            id=strawberry.ID(ids.encode("User", record.territory_id, str(record.id))),
            username=record.username,
            email=record.email,
            display_name=record.display_name,
            created_at=record.created_at,
            territory_code=record.territory_id,
            user_id=record.id,
        )

    @strawberry.field(description="The territory whose schema holds this account.")
    async def territory(
        self, info: Info
    ) -> Annotated[Territory, strawberry.lazy("graph.types.territory")]:
        from graph.types.territory import Territory

        record = await info.context.loaders.active_territory(self.territory_code)
        assert record is not None, "a user is only read through its active territory"
        return Territory.from_record(record)

    @strawberry.field(description="Active role grants, read fresh (tokens may lag until refresh).")
    async def roles(self, info: Info) -> list[RoleGrant]:
        ihash = info.context.services.config.identity(self.territory_code, self.user_id)
        loader = info.context.loaders.on_main("grants_by_identity", _grants)
        return [RoleGrant(role=g.role, territory=g.territory_id) for g in await loader.load(ihash)]

    @strawberry.field(
        description="The profile as its owner's privacy settings let you see it (all of it for "
        "the owner). Null when it shows you nothing."
    )
    async def profile(
        self, info: Info
    ) -> Annotated[Profile, strawberry.lazy("graph.types.profile")] | None:
        from graph.types.profile import profile_view

        return await profile_view(info, self.territory_code, self.user_id)

    @strawberry.field(
        description="Privacy preset, per-field settings and the groups they are shared with. "
        "Null unless you own it."
    )
    async def privacy(
        self, info: Info
    ) -> Annotated[PrivacySettings, strawberry.lazy("graph.types.profile")] | None:
        from graph.types.profile import own_row, privacy_settings

        row = await own_row(info, self.territory_code, self.user_id)
        return None if row is None else await privacy_settings(info, row)

    @strawberry.field(description="E-mail and push settings, quiet hours. Null unless you own it.")
    async def notification_preferences(
        self, info: Info
    ) -> Annotated[NotificationPreferencesType, strawberry.lazy("graph.types.profile")] | None:
        from domain.profiles import NotificationPreferences
        from graph.types.profile import NotificationPreferencesType, own_row

        row = await own_row(info, self.territory_code, self.user_id)
        if row is None:
            return None
        prefs = NotificationPreferences.from_json(row.notifications)
        return NotificationPreferencesType.from_domain(prefs)

    @strawberry.field(
        description="Your social groups (Family, Friends first). Null unless you own them."
    )
    async def social_groups(
        self, info: Info
    ) -> list[Annotated[SocialGroup, strawberry.lazy("graph.types.social_group")]] | None:
        from graph.types.social_group import groups_of_owner

        caller = info.context.caller
        if caller.territory_id != self.territory_code or caller.user_id != str(self.user_id):
            return None
        return await groups_of_owner(info, self.territory_code, self.user_id)

    @strawberry.field(description="Communities this account belongs to, oldest membership first.")
    async def communities(
        self, info: Info
    ) -> list[Annotated[CommunityMembership, strawberry.lazy("graph.types.membership")]]:
        from graph.types.membership import memberships_of

        return await memberships_of(info, self.territory_code, self.user_id)


async def _grants(conn: AsyncConnection, keys: list[bytes]) -> list[list[Grant]]:
    found = await role_db.active_grants(conn, keys)
    return [found.get(k, []) for k in keys]


async def _by_ids(
    conn: AsyncConnection, territory_id: str, keys: list[uuid.UUID]
) -> list[UserRecord | None]:
    found = await user_db.by_ids(conn, territory_id, keys)
    return [found.get(k) for k in keys]


def visible(caller: Caller, territory_id: str, user_id: uuid.UUID) -> bool:
    """Oneself; or a manager, moderator or global admin of the user's territory."""
    if caller.territory_id == territory_id and caller.user_id == str(user_id):
        return True
    return can_read_accounts(caller.roles, territory_id)


async def user_by_id(info: Info, territory_id: str, user_id: uuid.UUID) -> User | None:
    """The account if the caller may see it, else None (invisible and absent look the same)."""
    if not visible(info.context.caller, territory_id, user_id):
        return None
    loader = info.context.loaders.in_territory(territory_id, "user_by_id", _by_ids, missing=None)
    record = await loader.load(user_id)
    return None if record is None or record.status != "active" else User.from_record(record)
