"""Authors of forum posts: (territory, user id) references resolved in the person's own
territory, with the badges they validly hold, read for every author of a page at once."""

from __future__ import annotations

import uuid
import weakref
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import cast

import strawberry
from graphql import FieldNode, FragmentSpreadNode, InlineFragmentNode, SelectionNode

from db.badges import AwardRecord, DefinitionRecord
from domain.badges import GLOBAL_HOME, BadgeRef, valid_badges
from domain.forums import (
    Author,
)
from graph import ids
from graph.context import Info
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


@strawberry.type(
    description="Who wrote a topic or comment: a reference to an account of any territory "
    "(global forums hold posts from many), resolved in that territory."
)
class ForumAuthor:
    territory_code: strawberry.Private[str]
    key: strawberry.Private[uuid.UUID]
    # The badges, when the page that built this author read them for all its authors at once.
    preloaded: strawberry.Private[list[ForumBadge] | None]
    user_id: strawberry.ID = strawberry.field(
        description="Their account's id (a `User` id); reading the account follows `User`'s rules."
    )

    @classmethod
    def of(cls, author: Author, badges: list[ForumBadge] | None = None) -> ForumAuthor:
        territory, key = author
        return cls(
            territory_code=territory,
            key=key,
            preloaded=badges,
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
        "first: anyone who sees the post sees them."
    )
    def badges(self, info: Info) -> list[ForumBadge]:
        if self.preloaded is not None:
            return self.preloaded
        # Not preloaded (a single author): the awaitable is awaited by the executor.
        pending = _badges_of_one(info, (self.territory_code, self.key))
        return cast("list[ForumBadge]", pending)


async def _badges_of_one(info: Info, author: Author) -> list[ForumBadge]:
    return (await badges_of(info, [author]))[author]


_SHOWN_BADGES: weakref.WeakKeyDictionary[Loaders, dict[BadgeRef, Badge]] = (
    weakref.WeakKeyDictionary()
)
"""Each request's Badge objects by reference: built once per request, shared by every author."""


async def _definitions(info: Info, refs: set[BadgeRef]) -> dict[BadgeRef, DefinitionRecord]:
    """Definitions by home through the request's loaders: futures, no task per reference."""
    loaders = info.context.loaders
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


async def badges_of(info: Info, authors: Iterable[Author]) -> dict[Author, list[ForumBadge]]:
    """The valid badges of each author (as ``User.badges`` counts them: in force, prerequisites
    valid too), newest award first: awards batched per territory, definitions per home, so
    every page of a request shares the same few statements."""
    people = list(dict.fromkeys(authors))
    loaders = info.context.loaders
    by_territory: dict[str, list[uuid.UUID]] = {}
    for territory, user in people:
        by_territory.setdefault(territory, []).append(user)
    awards: dict[Author, Sequence[AwardRecord]] = {}
    for territory, users in by_territory.items():
        loader = loaders.get(AWARDS_OF_USER, territory)
        pending = [loader.load(u) for u in users]  # one batch; awaited without a gather
        for user, awaited in zip(users, pending, strict=True):
            awards[territory, user] = await awaited
    definitions = await _definitions(info, {a.badge for held in awards.values() for a in held})
    now = info.context.clock()
    shown = _SHOWN_BADGES.setdefault(loaders, {})
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
            badge = shown.get(award.badge)
            if badge is None:
                badge = shown[award.badge] = Badge.from_record(definitions[award.badge])
            badges.append(ForumBadge(badge=badge, valid_until=award.valid_until))
        result[person] = badges
    return result


ITEM_PATHS = (("nodes", "author", "badges"), ("edges", "node", "author", "badges"))
"""Where a connection's items select their author's badges."""


def wants_author_badges(info: Info) -> bool:
    """Whether the connection being resolved selects ``author { badges }`` on its own items:
    then its page reads every author's badges at once instead of one author at a time."""
    raw = info._raw_info
    fragments = raw.fragments

    def fields(selections: Iterable[SelectionNode]) -> Iterable[FieldNode]:
        for node in selections:
            if isinstance(node, FieldNode):
                yield node
            elif isinstance(node, InlineFragmentNode):
                yield from fields(node.selection_set.selections)
            elif isinstance(node, FragmentSpreadNode):
                fragment = fragments.get(node.name.value)
                if fragment is not None:
                    yield from fields(fragment.selection_set.selections)

    def reaches(nodes: Iterable[FieldNode], path: tuple[str, ...]) -> bool:
        for node in nodes:
            if node.name.value != path[0]:
                continue
            if len(path) == 1:
                return True
            if node.selection_set is not None and reaches(
                fields(node.selection_set.selections), path[1:]
            ):
                return True
        return False

    return any(
        node.selection_set is not None and reaches(fields(node.selection_set.selections), path)
        for node in raw.field_nodes
        for path in ITEM_PATHS
    )
