"""Communities inside a territory, their members, and a person's memberships.

Anonymous callers see public communities only. Member lists are for accounts of the community's
territory; each member's profile still goes through ``profile_view``, so a list never shows more
of a person than their privacy allows. ``Territory.communities`` and ``User.communities`` come
from the mixins at the end of this module.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import Enum
from typing import TYPE_CHECKING, Annotated

import strawberry

from db.communities import CommunityRecord, MemberCursor, MembershipRecord
from domain.communities import CommunityRole as DomainCommunityRole
from domain.communities import account_in, can_list_members, hidden_from
from domain.errors import BadUserInput
from graph import ids
from graph.context import Info
from graph.loaders.communities import (
    COMMUNITY_BY_ID,
    MEMBER_PAGE,
    MEMBERSHIPS_OF_USER,
    PUBLIC_PAGE,
)
from graph.loaders.profiles import PROFILE_VIEWS, ProfileSight
from graph.types.enums import described_enum
from graph.types.profiles import Profile
from graph.types.relay import (
    After,
    Connection,
    First,
    Node,
    PersonKey,
    connection,
    hub_type,
    page_size,
)

if TYPE_CHECKING:
    from graph.types.territories import Territory

TERRITORIES = "graph.types.territories"


CommunityRole = described_enum(
    DomainCommunityRole,
    name="CommunityRole",
    description="A member's role in one community; a community always keeps at least one ADMIN.",
    values={
        DomainCommunityRole.MEMBER: "Belongs to the community.",
        DomainCommunityRole.MODERATOR: "A member trusted to moderate; manages no memberships.",
        DomainCommunityRole.ADMIN: "Adds and removes members and changes their roles.",
    },
)


@strawberry.enum(description="Who may find and join a community.")
class CommunityVisibility(Enum):
    PUBLIC = strawberry.enum_value(
        "public",
        description="Listed for everyone; accounts of its territory join it themselves.",
    )
    INVITE_ONLY = strawberry.enum_value(
        "invite_only",
        description="Unlisted and invisible to non-members (NOT_FOUND for them); people join "
        "when an admin or a territory manager adds them.",
    )


@strawberry.type(description="A community of people inside one territory.")
class Community(Node):
    key: strawberry.Private[uuid.UUID]
    slug: str = strawberry.field(
        description="Unique within its territory: lower-case letters and digits in groups "
        "joined by single hyphens, at most 64 characters (`repair-cafe`)."
    )
    name: str = strawberry.field(description="Display name, one line of at most 120 characters.")
    description: str = strawberry.field(
        description="What the community is about; may span lines. Empty when none was given."
    )
    visibility: CommunityVisibility = strawberry.field(description="Who may find and join it.")
    created_at: datetime = strawberry.field(description="When it was created (ISO 8601, UTC).")
    territory: Annotated[Territory, strawberry.lazy(TERRITORIES)] = strawberry.field(
        description="The territory whose schema holds this community."
    )

    @classmethod
    def from_record(cls, record: CommunityRecord, territory: Territory) -> Community:
        """``territory`` is shared by every community of a page: a plain attribute, no resolver."""
        return cls(
            id=strawberry.ID(ids.encode("Community", record.territory_id, str(record.id))),
            key=record.id,
            slug=record.slug,
            name=record.name,
            description=record.description,
            visibility=(
                CommunityVisibility.PUBLIC if record.is_public else CommunityVisibility.INVITE_ONLY
            ),
            created_at=record.created_at,
            territory=territory,
        )

    @strawberry.field(description="Your role here; null when you are not a member.")
    async def viewer_role(self, info: Info) -> DomainCommunityRole | None:
        return await viewer_role(info, self.territory.code, self.key)

    @strawberry.field(
        description="Members, oldest membership first, each with their profile as they let you "
        "see it. Null unless you are an account of this community's territory (or a global "
        "admin)."
    )
    async def members(
        self,
        info: Info,
        first: First = None,
        after: After = None,
    ) -> Connection[CommunityMember] | None:
        return await members(info, self.territory.code, self.key, first=first, after=after)


@strawberry.type(description="A member of a community, as its member list shows them.")
class CommunityMember:
    """Every field is a plain attribute: a page of members with their profiles comes from one
    statement (``MEMBER_PAGE``), so nothing is left for a resolver per member to fetch."""

    role: DomainCommunityRole = strawberry.field(description="Their role in the community.")
    joined_at: datetime = strawberry.field(description="When they became a member (ISO 8601, UTC).")
    account_id: strawberry.ID = strawberry.field(
        name="userId",
        description="Their account's id (a `User` id): what `removeCommunityMember` and "
        "`setCommunityMemberRole` take. Reading the account itself follows `User`'s rules.",
    )
    profile: Profile | None = strawberry.field(
        description="Their profile as its owner's privacy settings let you see it; null when it "
        "shows you nothing."
    )

    @classmethod
    def from_row(
        cls, territory_id: str, record: MembershipRecord, sight: ProfileSight | None
    ) -> CommunityMember:
        return cls(
            role=record.role,
            joined_at=record.joined_at,
            account_id=strawberry.ID(ids.encode("User", territory_id, str(record.user_id))),
            profile=None if sight is None or not sight.visible else Profile.build(sight),
        )


@strawberry.type(description="A community someone belongs to, with their role in it.")
class CommunityMembership:
    community: Community = strawberry.field(description="The community.")
    role: DomainCommunityRole = strawberry.field(description="Their role in it.")
    joined_at: datetime = strawberry.field(description="When they became a member (ISO 8601, UTC).")


async def _territory_node(info: Info, territory_id: str) -> Territory | None:
    record = await info.context.loaders.active_territory(territory_id)
    territory: type[Territory] = hub_type(TERRITORIES, "Territory")
    return None if record is None else territory.from_record(record)


async def community_node(info: Info, record: CommunityRecord) -> Community | None:
    """``record`` as a node of its territory; None when the territory is not active."""
    territory = await _territory_node(info, record.territory_id)
    return None if territory is None else Community.from_record(record, territory)


async def community_by_id(info: Info, territory_id: str, key: uuid.UUID) -> Community | None:
    """A community visible to the caller, or None (invisible and absent look the same): an
    invite-only one only to its members and the territory's managers, as everywhere else."""
    record = await info.context.loaders.get(COMMUNITY_BY_ID, territory_id).load(key)
    if record is None:
        return None
    if not record.is_public:
        role = await viewer_role(info, territory_id, key)
        caller_roles = info.context.caller.roles
        if hidden_from(caller_roles, territory_id, is_public=False, caller_community_role=role):
            return None
    return await community_node(info, record)


async def public_communities(
    info: Info, territory_id: str, *, first: int | None, after: str | None
) -> Connection[Community]:
    limit = page_size(first)
    after_slug = ids.decode_cursor(after)
    rows = await info.context.loaders.get(PUBLIC_PAGE, territory_id).load((after_slug, limit + 1))
    territory = await _territory_node(info, territory_id)
    if territory is None:  # the loader answered nothing for an unknown or inactive territory
        rows = ()
    by_id = info.context.loaders.get(COMMUNITY_BY_ID, territory_id)
    for row in rows:
        by_id.prime(row.id, row)
    return connection(
        rows,
        limit,
        sort_key=lambda r: r.slug,
        node=lambda r: Community.from_record(r, territory),  # type: ignore[arg-type]
        after=after_slug,
    )


async def memberships_of(
    info: Info, territory_id: str, user_id: uuid.UUID
) -> list[CommunityMembership]:
    found = await info.context.loaders.get(MEMBERSHIPS_OF_USER, territory_id).load(user_id)
    territory = await _territory_node(info, territory_id)
    if territory is None:
        return []
    return [
        CommunityMembership(
            community=Community.from_record(record, territory),
            role=membership.role,
            joined_at=membership.joined_at,
        )
        for membership, record in found
    ]


async def membership_of(
    info: Info, territory_id: str, user_id: uuid.UUID, community_id: uuid.UUID
) -> CommunityMembership | None:
    """One person's membership of one community, through the memberships loader."""
    found = await memberships_of(info, territory_id, user_id)
    return next((m for m in found if m.community.key == community_id), None)


async def viewer_role(
    info: Info, territory_id: str, community_id: uuid.UUID
) -> DomainCommunityRole | None:
    user_id = account_in(info.context.caller, territory_id)
    if user_id is None:
        return None
    found = await info.context.loaders.get(MEMBERSHIPS_OF_USER, territory_id).load(user_id)
    return next((m.role for m, _ in found if m.community_id == community_id), None)


def _cursor_key(record: MembershipRecord) -> str:
    return f"{record.joined_at.isoformat()}|{record.user_id}"


def _parse_cursor(value: str | None) -> MemberCursor | None:
    if value is None:
        return None
    when, _, key = value.partition("|")
    try:
        return datetime.fromisoformat(when), uuid.UUID(key)
    except ValueError:
        raise BadUserInput("Malformed cursor.", field="after") from None


async def members(
    info: Info, territory_id: str, community_id: uuid.UUID, *, first: int | None, after: str | None
) -> Connection[CommunityMember] | None:
    if not can_list_members(info.context.caller, territory_id):
        return None
    limit = page_size(first)
    after_raw = ids.decode_cursor(after)
    loader = info.context.loaders.get(MEMBER_PAGE, territory_id)
    rows = await loader.load((community_id, _parse_cursor(after_raw), limit + 1))
    views = info.context.loaders.get(PROFILE_VIEWS, territory_id)
    for membership, sight in rows:
        views.prime(membership.user_id, sight)
    return connection(
        rows,
        limit,
        sort_key=lambda r: _cursor_key(r[0]),
        node=lambda r: CommunityMember.from_row(territory_id, *r),
        after=after_raw,
    )


@strawberry.type
class TerritoryCommunities:
    """``Territory.communities``: the hub inherits it, so the field lives with communities."""

    code: str

    @strawberry.field(
        description="The territory's public communities by slug; invite-only ones are never listed."
    )
    async def communities(
        self,
        info: Info,
        first: First = None,
        after: After = None,
    ) -> Connection[Community]:
        return await public_communities(info, self.code, first=first, after=after)


@strawberry.type
class UserCommunities(PersonKey):
    """``User.communities``."""

    @strawberry.field(
        description="Communities this account belongs to, invite-only ones included, oldest "
        "membership first."
    )
    async def communities(self, info: Info) -> list[CommunityMembership]:
        return await memberships_of(info, self.territory_code, self.user_id)
