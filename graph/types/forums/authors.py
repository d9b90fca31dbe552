"""Authors of forum posts: (territory, user id) references resolved in the person's own
territory, with the badges they validly hold, read for every author of a page at once."""

from __future__ import annotations

import uuid
import weakref
from collections.abc import Iterable, Sequence
from datetime import datetime
from operator import attrgetter

import strawberry

from db.badges import AwardRecord, DefinitionRecord
from domain.badges import GLOBAL_HOME, BadgeRef, valid_badges
from domain.forums import (
    Author,
)
from graph import ids
from graph.context import Context, Info
from graph.level_execution import batched_by
from graph.loaders.badges import AWARDS_OF_USER, DEFINITION_BY_ID, GLOBAL_DEFINITION_BY_ID
from graph.loaders.request import Loaders
from graph.types.badges import Badge
from graph.types.profiles import Profile, profile_view

# --- people


@strawberry.type(description="A badge an author validly holds, shown beside their posts.")
class ForumBadge:
    badge: Badge = strawberry.field(description="The badge, as its current version describes it.")
    valid_until: datetime | None = strawberry.field(
        description="When this award lapses; null: it does not expire."
    )


_REF = attrgetter("ref")


async def _badges_of_authors(
    context: Context, authors: list[ForumAuthor]
) -> list[list[ForumBadge]]:
    """Every author of a level at once (graph/level_execution.py): one pass for a whole page."""
    people = list(map(_REF, authors))
    found = await badges_of(context, people)
    return list(map(found.__getitem__, people))


@strawberry.type(
    description="Who wrote a topic or comment: a reference to an account of any territory "
    "(global forums hold posts from many), resolved in that territory."
)
class ForumAuthor:
    territory_code: strawberry.Private[str]
    key: strawberry.Private[uuid.UUID]
    ref: strawberry.Private[Author]
    user_id: strawberry.ID = strawberry.field(
        description="Their account's id (a `User` id); reading the account follows `User`'s rules."
    )

    @classmethod
    def of(cls, author: Author) -> ForumAuthor:
        territory, key = author
        return cls(
            territory_code=territory,
            key=key,
            ref=author,
            user_id=strawberry.ID(ids.encode("User", territory, str(key))),
        )

    @strawberry.field(
        description="Their profile as its owner's privacy settings let you see it; null when it "
        "shows you nothing."
    )
    async def profile(self, info: Info) -> Profile | None:
        return await profile_view(info, self.territory_code, self.key)

    @strawberry.field(
        description="The badges they validly hold now (prerequisites valid too), newest award "
        "first: anyone who sees the post sees them.",
        metadata=batched_by(_badges_of_authors),
    )
    async def badges(self, info: Info) -> list[ForumBadge]:
        return (await badges_of(info.context, [self.ref]))[self.ref]


_SHOWN_BADGES: weakref.WeakKeyDictionary[Loaders, dict[BadgeRef, Badge]] = (
    weakref.WeakKeyDictionary()
)
"""Each request's Badge objects by reference: built once per request, shared by every author."""

_SHOWN_HOLDINGS: weakref.WeakKeyDictionary[
    Loaders, dict[tuple[BadgeRef, datetime | None], ForumBadge]
] = weakref.WeakKeyDictionary()
"""Each request's ForumBadge objects by (badge, valid until): equal holdings are one object, so
the executor completes each once however many authors show it (graph/level_execution.py)."""


async def _definitions(loaders: Loaders, refs: set[BadgeRef]) -> dict[BadgeRef, DefinitionRecord]:
    """Definitions by home through the request's loaders: futures, no task per reference."""
    homes: dict[str, list[uuid.UUID]] = {}
    for ref in refs:
        homes.setdefault(ref.home, []).append(ref.id)
    found: dict[BadgeRef, DefinitionRecord] = {}
    for home, keys in homes.items():
        loader = (
            loaders.get_global(GLOBAL_DEFINITION_BY_ID)
            if home == GLOBAL_HOME
            else loaders.get(DEFINITION_BY_ID, home)
        )
        for pending in [loader.load(k) for k in keys]:  # one batch; no gather per page
            record = await pending
            if record is not None:
                found[record.ref] = record
    return found


async def badges_of(context: Context, authors: Iterable[Author]) -> dict[Author, list[ForumBadge]]:
    """The valid badges of each author (as ``User.badges`` counts them: in force, prerequisites
    valid too), newest award first: awards batched per territory, definitions per home, so
    every page of a request shares the same few statements."""
    people = list(dict.fromkeys(authors))
    loaders = context.loaders
    by_territory: dict[str, list[uuid.UUID]] = {}
    for territory, user in people:
        by_territory.setdefault(territory, []).append(user)
    awards: dict[Author, Sequence[AwardRecord]] = {}
    for territory, users in by_territory.items():
        loader = loaders.get(AWARDS_OF_USER, territory)
        pending = [loader.load(u) for u in users]  # one batch; awaited without a gather
        for user, awaited in zip(users, pending, strict=True):
            awards[territory, user] = await awaited
    definitions = await _definitions(loaders, {a.badge for held in awards.values() for a in held})
    now = context.clock()
    shown = _SHOWN_BADGES.setdefault(loaders, {})
    holdings = _SHOWN_HOLDINGS.setdefault(loaders, {})
    result: dict[Author, list[ForumBadge]] = {}
    for person in people:
        found = [a for a in awards[person] if a.badge in definitions]
        if any(definitions[a.badge].prerequisites for a in found):
            valid = valid_badges([a.held(definitions[a.badge]) for a in found], now)
            found = [a for a in found if a.badge in valid]
        else:  # no prerequisites to follow: each award stands alone
            found = [
                a
                for a in found
                if a.revoked_at is None
                and a.valid_from <= now
                and (a.valid_until is None or now < a.valid_until)
            ]
        badges = []
        for award in sorted(found, key=lambda a: a.awarded_at, reverse=True):
            holding = holdings.get((award.badge, award.valid_until))
            if holding is None:
                badge = shown.get(award.badge)
                if badge is None:
                    badge = shown[award.badge] = Badge.from_record(definitions[award.badge])
                holding = ForumBadge(badge=badge, valid_until=award.valid_until)
                holdings[award.badge, award.valid_until] = holding
            badges.append(holding)
        result[person] = badges
    return result
