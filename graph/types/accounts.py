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

import strawberry
from sqlalchemy.ext.asyncio import AsyncConnection

from db import users as user_db
from db.users import UserRecord
from domain.callers import Caller
from domain.roles import can_read_accounts
from graph import ids
from graph.context import Info
from graph.types.communities import UserCommunities
from graph.types.profiles import UserProfiles
from graph.types.relay import Node
from graph.types.roles import UserRoles
from graph.types.social_groups import UserSocialGroups
from graph.types.territories import Territory


@strawberry.type(description="A person's account in the territory that holds their data.")
class User(UserProfiles, UserSocialGroups, UserCommunities, UserRoles, Node):
    username: str
    email: str
    display_name: str
    created_at: datetime

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
    async def territory(self, info: Info) -> Territory:
        record = await info.context.loaders.active_territory(self.territory_code)
        assert record is not None, "a user is only read through its active territory"
        return Territory.from_record(record)

    @classmethod
    async def by_id(cls, info: Info, territory_id: str, user_id: uuid.UUID) -> User | None:
        """The account if the caller may see it, else None (invisible and absent look the same)."""
        return await user_by_id(info, territory_id, user_id)


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


@strawberry.input(description="Create an account with an invitation token.")
class RegisterInput:
    invitation_token: str
    username: str = strawberry.field(description="3-32 of a-z, 0-9, '.', '_', '-'.")
    email: str
    password: str = strawberry.field(description="See the password policy in the README.")
    display_name: str | None = None


@strawberry.input(description="Log in with a username or an email address and a password.")
class LoginInput:
    identifier: str = strawberry.field(description="Username or email address.")
    password: str
    territory: str | None = strawberry.field(
        default=None,
        description="The account's territory id, if known: the lookup then reads only there.",
    )


@strawberry.type(description="A fresh access token and the refresh token that renews it.")
class AuthPayload:
    access_token: str = strawberry.field(description="EdDSA JWT; send as `Authorization: Bearer`.")
    access_token_expires_at: datetime
    refresh_token: str = strawberry.field(
        description="Single use: `refreshSession` returns the next one."
    )
    user: User


@strawberry.type
class LogoutPayload:
    ended_sessions: int
