"""Badges as the graph shows them: definitions (``Badge``), awards (``BadgeAward``) and the
``User.badges`` connection (the mixin at the end).

Definitions are a public catalogue: any caller may read any territory's or community's badges
(what they grant, what they require). Awards are personal: they show through ``User`` (its owner,
the territory's managers and moderators, global admins) and ``node`` under the same rule.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import Enum
from typing import TYPE_CHECKING, Annotated

import strawberry

from db.badges import AwardRecord, DefinitionRecord
from domain.badges import (
    GLOBAL_HOME,
    PERMISSION_DESCRIPTIONS,
    BadgeLevel,
    BadgeRef,
    Permission,
)
from graph import badge_access, ids
from graph.context import Info
from graph.loaders.badges import AWARD_PAGE
from graph.types.enums import described_enum
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

described_enum(
    Permission,
    name="Permission",
    description="What a badge (or a role) lets its holder do within the badge's scope. A closed "
    "set: definitions name only these.",
    values=PERMISSION_DESCRIPTIONS,
)

described_enum(
    BadgeLevel,
    name="BadgeLevel",
    description="Where a badge is defined, and how far its permissions reach.",
    values={
        BadgeLevel.GLOBAL: "Defined by global admins; grants its permissions everywhere.",
        BadgeLevel.TERRITORY: "Defined by a territory's managers; grants within that territory.",
        BadgeLevel.COMMUNITY: "Defined by a community's admins; grants within that community.",
    },
)


@strawberry.enum(description="Where an award stands now.")
class BadgeAwardStatus(Enum):
    VALID = strawberry.enum_value("valid", description="In force (its prerequisites aside).")
    EXPIRED = strawberry.enum_value("expired", description="Its validity ended; renew it.")
    REVOKED = strawberry.enum_value("revoked", description="Taken back, with a reason.")


@strawberry.type(
    description="An automatic-award rule: the badge is awarded once its holder "
    "caused `threshold` events of type `event`."
)
class BadgeRule:
    event: str = strawberry.field(
        description="An event type, `<area>.<event>` (e.g. `course.completed`)."
    )
    threshold: int = strawberry.field(description="How many such events it takes (at least 1).")


def badge_id(ref: BadgeRef) -> strawberry.ID:
    return strawberry.ID(ids.encode("Badge", ref.home, str(ref.id)))


@strawberry.type(
    description="A badge definition, as its current version describes it. Anyone may read it."
)
class Badge(Node):
    ref: strawberry.Private[BadgeRef]
    level: BadgeLevel = strawberry.field(description="Where it is defined and how far it reaches.")
    community_id: strawberry.ID | None = strawberry.field(
        description="The community (a `Community` id) of a community badge; null otherwise."
    )
    core_key: str | None = strawberry.field(
        description="For the core badges every territory has (`code_of_conduct`, "
        "`basic_learner`, `forum_participant`, `content_contributor`, `community_member`): "
        "their key; null for others."
    )
    version: int = strawberry.field(
        description="The current version (1 at creation; each edit adds one)."
    )
    name: str = strawberry.field(description="Display name, one line.")
    description: str = strawberry.field(description="What the badge stands for.")
    criteria: str = strawberry.field(description="What it takes to earn it, in words.")
    image: str | None = strawberry.field(
        description="Its image: a file reference (`ipfs://<CID>` or `file:<uuid>`); null for none."
    )
    category: str = strawberry.field(description="A free grouping label (`learning`, `forum`).")
    permissions: list[Permission] = strawberry.field(
        description="What holding it (validly, prerequisites valid too) grants within its scope."
    )
    validity_days: int | None = strawberry.field(
        description="Days an award stays valid; null: it does not expire."
    )
    rules: list[BadgeRule] = strawberry.field(
        description="Automatic-award rules; empty: awarded by hand only."
    )
    created_at: datetime = strawberry.field(description="When it was defined (ISO 8601, UTC).")
    updated_at: datetime = strawberry.field(description="When its current version was made.")
    prerequisite_refs: strawberry.Private[tuple[BadgeRef, ...]]

    @classmethod
    def from_record(cls, record: DefinitionRecord) -> Badge:
        home = record.ref.home
        return cls(
            id=badge_id(record.ref),
            ref=record.ref,
            level=record.level,
            community_id=(
                None
                if record.community_id is None
                else strawberry.ID(ids.encode("Community", home, str(record.community_id)))
            ),
            core_key=record.core_key,
            version=record.version,
            name=record.name,
            description=record.description,
            criteria=record.criteria,
            image=record.image,
            category=record.category,
            permissions=sorted(record.permissions),
            validity_days=record.validity_days,
            rules=[BadgeRule(event=r.event, threshold=r.threshold) for r in record.rules],
            created_at=record.created_at,
            updated_at=record.updated_at,
            prerequisite_refs=record.prerequisites,
        )

    @strawberry.field(description="The territory that defines it; null for a global badge.")
    async def territory(
        self, info: Info
    ) -> Annotated[Territory, strawberry.lazy(TERRITORIES)] | None:
        if self.ref.home == GLOBAL_HOME:
            return None
        record = await info.context.loaders.active_territory(self.ref.home)
        territory: type[Territory] = hub_type(TERRITORIES, "Territory")
        return None if record is None else territory.from_record(record)

    @strawberry.field(
        description="Badges a person must validly hold before this one is awarded; if one of "
        "them lapses (expires, is revoked), this badge's permissions lapse with it."
    )
    async def prerequisites(self, info: Info) -> list[Badge]:
        found = await badge_access.definitions(info, self.prerequisite_refs)
        return [Badge.from_record(found[r]) for r in self.prerequisite_refs if r in found]


@strawberry.type(description="A badge awarded to a person.")
class BadgeAward(Node):
    badge_ref: strawberry.Private[BadgeRef]
    version: int = strawberry.field(
        description="The definition version it was (last) awarded or renewed for."
    )
    awarded_at: datetime = strawberry.field(
        description="When it was first awarded; kept when it is renewed."
    )
    valid_from: datetime = strawberry.field(description="Start of the current validity.")
    valid_until: datetime | None = strawberry.field(
        description="End of the current validity; null: it does not expire."
    )
    revoked_at: datetime | None = strawberry.field(
        description="When it was revoked; null unless revoked."
    )
    revoke_reason: str | None = strawberry.field(
        description="Why it was revoked; null unless revoked."
    )
    status: BadgeAwardStatus = strawberry.field(description="Where it stands now.")

    @classmethod
    def from_record(cls, record: AwardRecord, now: datetime) -> BadgeAward:
        if record.revoked_at is not None:
            status = BadgeAwardStatus.REVOKED
        elif record.valid_until is not None and record.valid_until <= now:
            status = BadgeAwardStatus.EXPIRED
        else:
            status = BadgeAwardStatus.VALID
        return cls(
            id=strawberry.ID(ids.encode("BadgeAward", record.territory_id, str(record.id))),
            badge_ref=record.badge,
            version=record.version,
            awarded_at=record.awarded_at,
            valid_from=record.valid_from,
            valid_until=record.valid_until,
            revoked_at=record.revoked_at,
            revoke_reason=record.revoke_reason,
            status=status,
        )

    @strawberry.field(description="The badge, as its current version describes it.")
    async def badge(self, info: Info) -> Badge | None:
        found = await badge_access.definition(info, self.badge_ref)
        return None if found is None else Badge.from_record(found)


async def award_page(
    info: Info,
    territory_id: str,
    user_id: uuid.UUID,
    *,
    first: int | None,
    after: str | None,
    include_expired: bool,
) -> Connection[BadgeAward]:
    limit = page_size(first)
    cursor = ids.decode_cursor(after)
    after_id = None if cursor is None else ids.parse_uuid(cursor)
    now = info.context.clock()
    key = (user_id, include_expired, after_id, limit + 1, now)
    rows = await info.context.loaders.get(AWARD_PAGE, territory_id).load(key)
    return connection(
        rows,
        limit,
        sort_key=lambda r: str(r.id),
        node=lambda r: BadgeAward.from_record(r, now),
        after=after,
    )


@strawberry.type
class UserBadges(PersonKey):
    """``User.badges``."""

    @strawberry.field(
        description="Badges this person holds, newest award first: valid ones only unless "
        "`includeExpired` (then revoked and expired ones too)."
    )
    async def badges(
        self,
        info: Info,
        first: First = None,
        after: After = None,
        include_expired: Annotated[
            bool,
            strawberry.argument(description="Also list expired and revoked awards."),
        ] = False,
    ) -> Connection[BadgeAward]:
        return await award_page(
            info,
            self.territory_code,
            self.user_id,
            first=first,
            after=after,
            include_expired=include_expired,
        )
