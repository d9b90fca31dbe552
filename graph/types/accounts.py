"""User accounts as the graph shows them: to themselves and to those who manage their territory.

A ``User`` is only ever built after the root field or ``node`` lookup decided the caller may see
it (``domain.accounts.can_read_account``). Everyone else meets a person through their ``Profile``
(graph/types/profiles.py), governed by the person's privacy settings; ``User.profile`` goes
through the same enforcement, so a manager reading an account sees the profile only as far as its
owner allows. Settings (privacy, notifications, social groups) are the owner's alone.
"""

from __future__ import annotations

import uuid
from datetime import datetime

import strawberry

from db.users import UserRecord
from domain.accounts import can_read_account
from graph import ids
from graph.context import Info
from graph.loaders.accounts import USER_BY_ID
from graph.types.badges import UserBadges
from graph.types.communities import UserCommunities
from graph.types.profiles import UserProfiles
from graph.types.relay import Node
from graph.types.roles import UserRoles
from graph.types.social_groups import UserSocialGroups
from graph.types.territories import Territory

_WHO_SEES = (
    "Like the whole account, seen only by its owner and by the territory managers, moderators "
    "of its territory and global admins."
)


@strawberry.type(
    description="A person's account in the territory that holds their data. Only its owner, the "
    "territory managers and moderators of that territory and global admins see it; everyone "
    "else meets the person through their `Profile`."
)
class User(UserProfiles, UserSocialGroups, UserCommunities, UserRoles, UserBadges, Node):
    username: str = strawberry.field(
        description="Login name, lower case, unique in the territory (3-32 of a-z, 0-9, '.', "
        f"'_', '-'). {_WHO_SEES}"
    )
    email: str = strawberry.field(
        description="Email address, unique in the territory (NFC-normalised, otherwise as "
        f"given at registration). {_WHO_SEES}"
    )
    display_name: str = strawberry.field(
        description="The name given at registration (the username if none was). The name others "
        "see is the profile's `displayName`, under the owner's privacy settings."
    )
    created_at: datetime = strawberry.field(description="When the account was registered.")

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


async def user_by_id(info: Info, territory_id: str, user_id: uuid.UUID) -> User | None:
    """The active account if the caller may see it, else None (invisible and absent look the
    same, so an id reveals nothing about whether its account exists)."""
    if not can_read_account(info.context.caller, territory_id, user_id):
        return None
    record = await info.context.loaders.get(USER_BY_ID, territory_id).load(user_id)
    return None if record is None or record.status != "active" else User.from_record(record)
