"""Forums, topics, threaded comments, their authors, and the moderation views.

Who may see a forum is decided once per forum (``forum_access``: the forum's facts and the
caller's standing, from batched loaders); its topics and comments follow from it and carry no
check of their own. Items are plain attributes built from one page statement, so a page of
comments under a page of topics under a page of forums is three statements whatever it holds.

Text is returned exactly as it was written: never rendered to HTML (clients escape it).
"""

from __future__ import annotations

import uuid
import weakref
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import Enum
from typing import Annotated, cast

import strawberry
from graphql import FieldNode, FragmentSpreadNode, InlineFragmentNode, SelectionNode

from db.badges import AwardRecord, DefinitionRecord
from db.forums.moderation import FlagRecord, LogRecord
from db.forums.records import CommentRecord, ForumRecord, TopicRecord
from domain.badges import GLOBAL_HOME, BadgeRef, Permission, valid_badges
from domain.communities import account_in
from domain.errors import BadUserInput
from domain.forums import (
    Author,
    CommentOrder,
    ContentKind,
    FlagReason,
    ForumLevel,
    ForumVisibility,
    ModerationAction,
    Standing,
    VoteValue,
    scope_of,
    visible_to,
)
from graph import badge_access, ids
from graph.context import Info
from graph.loaders.badges import AWARDS_OF_USER, DEFINITION_BY_ID, GLOBAL_DEFINITION_BY_ID
from graph.loaders.communities import MEMBERSHIPS_OF_USER
from graph.loaders.forums import (
    COMMENT_BY_ID,
    COMMENT_PAGE,
    FLAG_PAGE,
    FORUM_BY_ID,
    FORUM_PAGE,
    LOG_ENTRY,
    LOG_PAGE,
    MY_VOTE,
    REVISIONS,
    THREAD,
    TOPIC_BY_ID,
    TOPIC_PAGE,
)
from graph.loaders.request import Loaders
from graph.types.badges import Badge, badge_id
from graph.types.enums import described_enum
from graph.types.profiles import Profile, profile_view
from graph.types.relay import After, Connection, First, Node, connection, page_size

ForumLevelEnum = described_enum(
    ForumLevel,
    name="ForumLevel",
    description="Where a forum sits.",
    values={
        ForumLevel.GLOBAL: "A forum of the `global` territory: accounts of every territory "
        "read and post there.",
        ForumLevel.TERRITORY: "A forum of one territory, for its accounts.",
        ForumLevel.COMMUNITY: "A forum of one community of a territory, for its members.",
    },
)
ForumVisibilityEnum = described_enum(
    ForumVisibility,
    name="ForumVisibility",
    description="Who may read a forum before its required badges are checked.",
    values={
        ForumVisibility.PUBLIC: "Everyone its level admits: anyone for a GLOBAL forum "
        "(anonymous callers too), the territory's accounts for a TERRITORY forum, the "
        "community's members for a COMMUNITY forum.",
        ForumVisibility.MODERATORS: "Its moderators only: a staff room.",
    },
)
CommentOrderEnum = described_enum(
    CommentOrder,
    name="ForumCommentOrder",
    description="How a page of comments is sorted.",
    values={
        CommentOrder.OLDEST: "Oldest first (the conversation's order).",
        CommentOrder.NEWEST: "Newest first.",
        CommentOrder.TOP: "Highest score (up votes minus down votes) first, then oldest.",
    },
)
VoteValueEnum = described_enum(
    VoteValue,
    name="ForumVote",
    description="A vote on a comment.",
    values={VoteValue.UP: "An up vote.", VoteValue.DOWN: "A down vote."},
)
FlagReasonEnum = described_enum(
    FlagReason,
    name="ForumFlagReason",
    description="Why content was flagged.",
    values={
        FlagReason.OFF_TOPIC: "Not about the topic.",
        FlagReason.INAPPROPRIATE: "Breaks the Code of Conduct.",
        FlagReason.SPAM: "Advertising or repeated content.",
        FlagReason.ILLEGAL: "Possibly unlawful.",
        FlagReason.OTHER: "Another reason, explained in the note.",
    },
)
ContentKindEnum = described_enum(
    ContentKind,
    name="ForumContentKind",
    description="What a flag or moderation step is about.",
    values={
        ContentKind.TOPIC: "A topic.",
        ContentKind.COMMENT: "A comment.",
        ContentKind.USER: "A person (a warning or a restriction).",
    },
)
ModerationActionEnum = described_enum(
    ModerationAction,
    name="ForumModerationAction",
    description="A step recorded in a forum's moderation log.",
    values={
        ModerationAction.FLAGGED: "Someone flagged content.",
        ModerationAction.FLAG_DISMISSED: "A moderator dismissed the open flags on content.",
        ModerationAction.HIDDEN: "A moderator hid content.",
        ModerationAction.RESTORED: "A moderator restored hidden content.",
        ModerationAction.WARNED: "A moderator warned the person: one strike.",
        ModerationAction.RESTRICTED: "The person may no longer post (a moderator, or the third "
        "active strike: then `detail` is `third_strike`).",
        ModerationAction.UNRESTRICTED: "A moderator lifted a restriction and its strikes.",
        ModerationAction.ESCALATED: "A moderator escalated content (`detail` names to whom).",
        ModerationAction.TOPIC_CLOSED: "A moderator closed a topic.",
        ModerationAction.TOPIC_REOPENED: "A moderator reopened a topic.",
        ModerationAction.TOPIC_PINNED: "A moderator pinned a topic.",
        ModerationAction.TOPIC_UNPINNED: "A moderator unpinned a topic.",
    },
)


# --- access, decided once per forum


async def standing_in(info: Info, record: ForumRecord) -> Standing:
    """The caller's standing for ``record``: community membership, the badges they validly hold
    and the forum permissions (roles and badges) in the forum's scope (graph.badge_access)."""
    caller = info.context.caller
    if not caller.is_authenticated:
        return Standing(
            is_member=record.community_id is None,
            badges=frozenset(),
            may_read=False,
            may_post=False,
            moderates=False,
        )
    territory_id = record.territory_id
    is_member = True
    if record.community_id is not None:
        user_id = account_in(caller, territory_id)
        if user_id is None:
            is_member = False
        else:
            found = await info.context.loaders.get(MEMBERSHIPS_OF_USER, territory_id).load(user_id)
            is_member = any(m.community_id == record.community_id for m, _ in found)
    perms = await badge_access.permissions_of(info, caller.account())
    scope = scope_of(record.facts)
    return Standing(
        is_member=is_member,
        badges=perms.held,
        may_read=perms.allows(Permission.FORUM_READ, scope),
        may_post=perms.allows(Permission.FORUM_POST, scope),
        moderates=perms.allows(Permission.FORUM_MODERATE, scope),
    )


@dataclass(frozen=True, slots=True)
class Access:
    """A forum the caller may see, with the standing that decided it."""

    record: ForumRecord
    standing: Standing


async def forum_access(info: Info, record: ForumRecord | None) -> Access | None:
    """None when the forum is missing or hidden from the caller (NOT_FOUND to them)."""
    if record is None:
        return None
    standing = await standing_in(info, record)
    if not visible_to(info.context.caller, record.facts, standing):
        return None
    return Access(record, standing)


async def forum_by_id(info: Info, territory_id: str, key: uuid.UUID) -> Access | None:
    record = await info.context.loaders.get(FORUM_BY_ID, territory_id).load(key)
    return await forum_access(info, record)


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
        for record in await loader.load_many(keys):
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
        lists = await loaders.get(AWARDS_OF_USER, territory).load_many(users)
        awards.update(((territory, u), a) for u, a in zip(users, lists, strict=True))
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


@strawberry.type(description="An earlier version of an edited topic or comment.")
class ForumRevision:
    title: str | None = strawberry.field(description="The topic's title then; null for comments.")
    body: str = strawberry.field(description="The text then, as written.")
    written_at: datetime = strawberry.field(description="When that version was written.")


async def revisions(
    info: Info, territory_id: str, key: uuid.UUID, moderates: bool
) -> list[ForumRevision] | None:
    if not moderates:
        return None
    found = await info.context.loaders.get(REVISIONS, territory_id).load(key)
    return [ForumRevision(title=t, body=b, written_at=w) for t, b, w in found]


# --- comments


def _comment_cursor(record: CommentRecord) -> str:
    return f"{record.score}|{record.id}"


def _parse_comment_cursor(value: str | None) -> tuple[int, uuid.UUID] | None:
    if value is None:
        return None
    score, _, key = value.partition("|")
    try:
        return int(score), uuid.UUID(key)
    except ValueError:
        raise BadUserInput("Malformed cursor.", field="after") from None


@strawberry.type(
    description="A comment on a topic, or a reply to a comment (replies nest to any depth). "
    "The text is returned exactly as written, never rendered to HTML."
)
class ForumComment(Node):
    territory_code: strawberry.Private[str]
    key: strawberry.Private[uuid.UUID]
    topic_key: strawberry.Private[uuid.UUID]
    body: str | None = strawberry.field(
        description="The text as written (plain text, not HTML); null once deleted by its "
        "author or hidden by a moderator."
    )
    is_deleted: bool = strawberry.field(description="True once its author deleted it.")
    is_hidden: bool = strawberry.field(description="True while a moderator hides it.")
    depth: int = strawberry.field(description="0 for a comment on the topic, 1 for a reply...")
    parent_id: strawberry.ID | None = strawberry.field(
        description="The comment this replies to; null for a comment on the topic itself."
    )
    author: ForumAuthor | None = strawberry.field(
        description="Who wrote it; null once deleted or hidden."
    )
    created_at: datetime = strawberry.field(description="When it was posted (ISO 8601, UTC).")
    edited_at: datetime | None = strawberry.field(
        description="When its author last edited it; null if never."
    )
    up_votes: int = strawberry.field(description="Up votes.")
    down_votes: int = strawberry.field(description="Down votes.")
    score: int = strawberry.field(description="Up votes minus down votes.")
    reply_count: int = strawberry.field(description="Direct replies.")

    @classmethod
    def from_record(
        cls, territory_id: str, record: CommentRecord, badges: list[ForumBadge] | None = None
    ) -> ForumComment:
        gone = record.deleted_at is not None or record.hidden_at is not None
        return cls(
            id=strawberry.ID(ids.encode("ForumComment", territory_id, str(record.id))),
            territory_code=territory_id,
            key=record.id,
            topic_key=record.topic_id,
            body=None if gone else record.body,
            is_deleted=record.deleted_at is not None,
            is_hidden=record.hidden_at is not None,
            depth=record.depth,
            parent_id=(
                None
                if record.parent_id is None
                else strawberry.ID(ids.encode("ForumComment", territory_id, str(record.parent_id)))
            ),
            author=None if gone else ForumAuthor.of(record.author, badges),
            created_at=record.created_at,
            edited_at=record.edited_at,
            up_votes=record.up_votes,
            down_votes=record.down_votes,
            score=record.score,
            reply_count=record.reply_count,
        )

    @strawberry.field(description="Direct replies, a page in the order asked for.")
    async def replies(
        self,
        info: Info,
        first: First = None,
        after: After = None,
        order_by: Annotated[
            CommentOrder, strawberry.argument(description="The order; OLDEST when omitted.")
        ] = CommentOrder.OLDEST,
    ) -> Connection[ForumComment]:
        return await comment_page(
            info,
            territory_id=self.territory_code,
            topic_id=self.topic_key,
            parent_id=self.key,
            order=order_by,
            first=first,
            after=after,
        )

    @strawberry.field(
        description="Every reply under this comment, at any depth, depth first and oldest first "
        "at each level (at most 500): a whole thread in one read. Use `depth` and `parentId` to "
        "indent."
    )
    async def thread(self, info: Info) -> list[ForumComment]:
        rows = await info.context.loaders.get(THREAD, self.territory_code).load(self.key)
        return [ForumComment.from_record(self.territory_code, r) for r in rows]

    @strawberry.field(
        description="Its earlier versions, oldest first (edits keep them); null unless you "
        "moderate its forum."
    )
    async def revisions(self, info: Info) -> list[ForumRevision] | None:
        found = await comment_in(info, self.territory_code, self.key)
        moderates = found is not None and found[1].standing.moderates
        return await revisions(info, self.territory_code, self.key, moderates)

    @strawberry.field(description="Your vote on it; null when you have not voted.")
    async def viewer_vote(self, info: Info) -> VoteValue | None:
        loader = info.context.loaders.get(MY_VOTE, self.territory_code)
        vote: VoteValue | None = await loader.load(self.key)
        return vote


async def comment_page(
    info: Info,
    *,
    territory_id: str,
    topic_id: uuid.UUID,
    parent_id: uuid.UUID | None,
    order: CommentOrder,
    first: int | None,
    after: str | None,
) -> Connection[ForumComment]:
    limit = page_size(first)
    after_raw = ids.decode_cursor(after)
    cursor = _parse_comment_cursor(after_raw)
    loader = info.context.loaders.get(COMMENT_PAGE, territory_id)
    rows = await loader.load((topic_id, parent_id, order, cursor, limit + 1))
    badges = (
        await badges_of(info, (r.author for r in rows[:limit])) if wants_author_badges(info) else {}
    )
    return connection(
        rows,
        limit,
        sort_key=_comment_cursor,
        node=lambda r: ForumComment.from_record(territory_id, r, badges.get(r.author)),
        after=after_raw,
    )


# --- topics


def _topic_cursor(record: TopicRecord) -> str:
    return f"{int(record.is_pinned)}|{record.last_activity_at.isoformat()}|{record.id}"


def _parse_topic_cursor(value: str | None) -> tuple[bool, datetime, uuid.UUID] | None:
    if value is None:
        return None
    try:
        pinned, at, key = value.split("|")
        return pinned == "1", datetime.fromisoformat(at), uuid.UUID(key)
    except ValueError:
        raise BadUserInput("Malformed cursor.", field="after") from None


@strawberry.type(
    description="A topic of a forum: a title, an opening text and its comments. Text is "
    "returned exactly as written, never rendered to HTML."
)
class ForumTopic(Node):
    territory_code: strawberry.Private[str]
    key: strawberry.Private[uuid.UUID]
    forum_key: strawberry.Private[uuid.UUID]
    title: str = strawberry.field(description="One line, at most 200 characters.")
    body: str | None = strawberry.field(
        description="The opening text as written (plain text, not HTML); null while hidden."
    )
    tags: list[str] = strawberry.field(description="Up to 5 lower-case tags (`repair-tips`).")
    author: ForumAuthor = strawberry.field(description="Who opened it.")
    created_at: datetime = strawberry.field(description="When it was opened (ISO 8601, UTC).")
    edited_at: datetime | None = strawberry.field(
        description="When its author last edited it; null if never."
    )
    last_activity_at: datetime = strawberry.field(
        description="When it was opened or last commented on: the listing's order."
    )
    is_closed: bool = strawberry.field(description="Closed topics take no new comments.")
    is_pinned: bool = strawberry.field(description="Pinned topics are listed first.")
    is_hidden: bool = strawberry.field(description="True while a moderator hides it.")
    view_count: int = strawberry.field(description="Times it was opened (`recordForumTopicView`).")
    comment_count: int = strawberry.field(description="Comments and replies, any depth.")

    @classmethod
    def from_record(cls, record: TopicRecord, badges: list[ForumBadge] | None = None) -> ForumTopic:
        territory_id = record.territory_id
        return cls(
            id=strawberry.ID(ids.encode("ForumTopic", territory_id, str(record.id))),
            territory_code=territory_id,
            key=record.id,
            forum_key=record.forum_id,
            title=record.title,
            body=None if record.hidden_at is not None else record.body,
            tags=list(record.tags),
            author=ForumAuthor.of(record.author, badges),
            created_at=record.created_at,
            edited_at=record.edited_at,
            last_activity_at=record.last_activity_at,
            is_closed=record.is_closed,
            is_pinned=record.is_pinned,
            is_hidden=record.hidden_at is not None,
            view_count=record.view_count,
            comment_count=record.comment_count,
        )

    @strawberry.field(
        description="Its earlier versions, oldest first (edits keep them); null unless you "
        "moderate its forum."
    )
    async def revisions(self, info: Info) -> list[ForumRevision] | None:
        access = await forum_by_id(info, self.territory_code, self.forum_key)
        moderates = access is not None and access.standing.moderates
        return await revisions(info, self.territory_code, self.key, moderates)

    @strawberry.field(description="The forum it is in.")
    async def forum(self, info: Info) -> Forum | None:
        access = await forum_by_id(info, self.territory_code, self.forum_key)
        return None if access is None else Forum.from_access(access)

    @strawberry.field(
        description="Comments on the topic itself (replies are under each comment's `replies` "
        "or `thread`), a page in the order asked for."
    )
    async def comments(
        self,
        info: Info,
        first: First = None,
        after: After = None,
        order_by: Annotated[
            CommentOrder, strawberry.argument(description="The order; OLDEST when omitted.")
        ] = CommentOrder.OLDEST,
    ) -> Connection[ForumComment]:
        return await comment_page(
            info,
            territory_id=self.territory_code,
            topic_id=self.key,
            parent_id=None,
            order=order_by,
            first=first,
            after=after,
        )


# --- moderation views


@strawberry.type(description="An open flag in a forum's review queue.")
class ForumFlag:
    reason: FlagReason = strawberry.field(description="Why it was flagged.")
    note: str = strawberry.field(description="The flagger's note as written; may be empty.")
    target_kind: ContentKind = strawberry.field(description="A topic or a comment.")
    target_id: strawberry.ID = strawberry.field(description="The flagged topic or comment.")
    flagged_by: ForumAuthor = strawberry.field(description="Who flagged it.")
    created_at: datetime = strawberry.field(description="When (ISO 8601, UTC).")

    @classmethod
    def from_record(cls, territory_id: str, record: FlagRecord) -> ForumFlag:
        type_name = "ForumTopic" if record.kind is ContentKind.TOPIC else "ForumComment"
        return cls(
            reason=record.reason,
            note=record.note,
            target_kind=record.kind,
            target_id=strawberry.ID(ids.encode(type_name, territory_id, str(record.target_id))),
            flagged_by=ForumAuthor.of(record.flagger),
            created_at=record.created_at,
        )


def target_node_id(territory_id: str, kind: ContentKind, key: uuid.UUID) -> str:
    type_name = {
        ContentKind.TOPIC: "ForumTopic",
        ContentKind.COMMENT: "ForumComment",
        ContentKind.USER: "User",
    }[kind]
    return ids.encode(type_name, territory_id, str(key))


@strawberry.type(
    description="One step of a forum's moderation log: who did what, to which content or "
    "person, why, and when. Seen by the forum's moderators only."
)
class ForumModerationEntry(Node):
    action: ModerationAction = strawberry.field(description="What was done.")
    moderator: ForumAuthor | None = strawberry.field(
        description="Who did it (for FLAGGED: who flagged); null for an automatic step."
    )
    target_kind: ContentKind = strawberry.field(description="What it was done to.")
    target_id: strawberry.ID = strawberry.field(
        description="The topic, comment, or (for warnings and restrictions) the `User`."
    )
    subject: ForumAuthor | None = strawberry.field(
        description="The person it concerns (the content's author); they are notified."
    )
    reason: str = strawberry.field(description="The reason given, as written; may be empty.")
    detail: str | None = strawberry.field(
        description="`third_strike` for an automatic restriction, the escalation target for "
        "ESCALATED, a flag reason for FLAGGED; null otherwise."
    )
    created_at: datetime = strawberry.field(description="When (ISO 8601, UTC).")

    @classmethod
    def from_record(cls, territory_id: str, record: LogRecord) -> ForumModerationEntry:
        target_territory = (
            record.subject[0]
            if record.kind is ContentKind.USER and record.subject is not None
            else territory_id
        )
        return cls(
            id=strawberry.ID(ids.encode("ForumModerationEntry", territory_id, str(record.id))),
            action=record.action,
            moderator=None if record.moderator is None else ForumAuthor.of(record.moderator),
            target_kind=record.kind,
            target_id=strawberry.ID(
                target_node_id(target_territory, record.kind, record.target_id)
            ),
            subject=None if record.subject is None else ForumAuthor.of(record.subject),
            reason=record.reason,
            detail=record.detail,
            created_at=record.created_at,
        )


def _uuid_cursor(value: str | None) -> uuid.UUID | None:
    if value is None:
        return None
    try:
        return uuid.UUID(value)
    except ValueError:
        raise BadUserInput("Malformed cursor.", field="after") from None


# --- forums


def _forum_cursor(record: ForumRecord) -> str:
    return f"{record.position}|{record.id}"


def _parse_forum_cursor(value: str | None) -> tuple[int, uuid.UUID] | None:
    if value is None:
        return None
    position, _, key = value.partition("|")
    try:
        return int(position), uuid.UUID(key)
    except ValueError:
        raise BadUserInput("Malformed cursor.", field="after") from None


@strawberry.type(
    description="A forum: a place for topics, or a category whose children are forums (the "
    "tree has any depth). Visible to you when its level, visibility, community and read badges "
    "allow; NOT_FOUND otherwise, through every path."
)
class Forum(Node):
    territory_code: strawberry.Private[str]
    key: strawberry.Private[uuid.UUID]
    parent_key: strawberry.Private[uuid.UUID | None]
    standing: strawberry.Private[Standing]
    name: str = strawberry.field(description="Display name, one line of at most 120 characters.")
    description: str = strawberry.field(description="What it is for, as written; may be empty.")
    level: ForumLevel = strawberry.field(description="Global, territory or community.")
    visibility: ForumVisibility = strawberry.field(description="Who may read it.")
    is_open: bool = strawberry.field(description="Closed forums take no new topics or comments.")
    position: int = strawberry.field(description="Its place among its siblings (ascending).")
    community_id: strawberry.ID | None = strawberry.field(
        description="The community of a COMMUNITY forum; null otherwise."
    )
    badges_to_read: list[strawberry.ID] = strawberry.field(
        description="Badges (all of them) needed to read, unless you hold forum.read."
    )
    badges_to_post: list[strawberry.ID] = strawberry.field(
        description="Badges (all of them) needed to post, unless you hold forum.post."
    )
    viewer_moderates: bool = strawberry.field(
        description="True when you moderate this forum (forum.moderate for its scope)."
    )

    @classmethod
    def from_access(cls, access: Access) -> Forum:
        record = access.record
        territory_id = record.territory_id
        return cls(
            id=strawberry.ID(ids.encode("Forum", territory_id, str(record.id))),
            territory_code=territory_id,
            key=record.id,
            parent_key=record.parent_id,
            standing=access.standing,
            name=record.name,
            description=record.description,
            level=record.facts.level,
            visibility=record.visibility,
            is_open=record.is_open,
            position=record.position,
            community_id=(
                None
                if record.community_id is None
                else strawberry.ID(ids.encode("Community", territory_id, str(record.community_id)))
            ),
            badges_to_read=[badge_id(b) for b in record.read_badges],
            badges_to_post=[badge_id(b) for b in record.post_badges],
            viewer_moderates=access.standing.moderates,
        )

    @strawberry.field(description="The forum above it; null for a root forum.")
    async def parent(self, info: Info) -> Forum | None:
        if self.parent_key is None:
            return None
        access = await forum_by_id(info, self.territory_code, self.parent_key)
        return None if access is None else Forum.from_access(access)

    @strawberry.field(description="Its child forums (subcategories) that you may see, by position.")
    async def children(
        self, info: Info, first: First = None, after: After = None
    ) -> Connection[Forum]:
        return await forum_page(info, self.territory_code, self.key, first, after)

    @strawberry.field(
        description="Its topics, pinned first, then by latest activity; hidden ones are left out."
    )
    async def topics(
        self, info: Info, first: First = None, after: After = None
    ) -> Connection[ForumTopic]:
        limit = page_size(first)
        after_raw = ids.decode_cursor(after)
        cursor = _parse_topic_cursor(after_raw)
        loader = info.context.loaders.get(TOPIC_PAGE, self.territory_code)
        rows = await loader.load((self.key, cursor, limit + 1))
        badges = (
            await badges_of(info, (r.author for r in rows[:limit]))
            if wants_author_badges(info)
            else {}
        )
        return connection(
            rows,
            limit,
            sort_key=_topic_cursor,
            node=lambda r: ForumTopic.from_record(r, badges.get(r.author)),
            after=after_raw,
        )

    @strawberry.field(
        description="Open flags awaiting review, oldest first; null unless you moderate it."
    )
    async def review_queue(
        self, info: Info, first: First = None, after: After = None
    ) -> Connection[ForumFlag] | None:
        if not self.standing.moderates:
            return None
        limit = page_size(first)
        after_raw = ids.decode_cursor(after)
        loader = info.context.loaders.get(FLAG_PAGE, self.territory_code)
        rows = await loader.load((self.key, _uuid_cursor(after_raw), limit + 1))
        return connection(
            rows,
            limit,
            sort_key=lambda r: str(r.id),
            node=lambda r: ForumFlag.from_record(self.territory_code, r),
            after=after_raw,
        )

    @strawberry.field(
        description="Every moderation step in this forum, newest first; null unless you "
        "moderate it."
    )
    async def moderation_log(
        self, info: Info, first: First = None, after: After = None
    ) -> Connection[ForumModerationEntry] | None:
        if not self.standing.moderates:
            return None
        limit = page_size(first)
        after_raw = ids.decode_cursor(after)
        loader = info.context.loaders.get(LOG_PAGE, self.territory_code)
        rows = await loader.load((self.key, _uuid_cursor(after_raw), limit + 1))
        return connection(
            rows,
            limit,
            sort_key=lambda r: str(r.id),
            node=lambda r: ForumModerationEntry.from_record(self.territory_code, r),
            after=after_raw,
        )


async def forum_page(
    info: Info,
    territory_id: str,
    parent: uuid.UUID | None,
    first: int | None,
    after: str | None,
) -> Connection[Forum]:
    """A page of forums the caller may see. Hidden forums are read and left out, so a page may
    hold fewer than ``first`` items while ``hasNextPage`` stays right."""
    limit = page_size(first)
    after_raw = ids.decode_cursor(after)
    loader = info.context.loaders.get(FORUM_PAGE, territory_id)
    rows = await loader.load((parent, _parse_forum_cursor(after_raw), limit + 1))
    by_id = info.context.loaders.get(FORUM_BY_ID, territory_id)
    window = rows[:limit]
    for row in window:
        by_id.prime(row.id, row)
    shown = [a for a in [await forum_access(info, r) for r in window] if a is not None]
    found = connection(
        shown,
        len(shown),
        sort_key=lambda a: _forum_cursor(a.record),
        node=Forum.from_access,
        after=after_raw,
    )
    found.page_info.has_next_page = len(rows) > limit
    if window:  # the next page starts after the last row read, shown or not
        found.page_info.end_cursor = ids.encode_cursor(_forum_cursor(window[-1]))
    return found


# --- lookups by id, through the forum's access


async def topic_in(
    info: Info, territory_id: str, key: uuid.UUID
) -> tuple[TopicRecord, Access] | None:
    """A topic the caller may see, with its forum's access: hidden topics only to the forum's
    moderators and their author."""
    record = await info.context.loaders.get(TOPIC_BY_ID, territory_id).load(key)
    if record is None:
        return None
    access = await forum_by_id(info, territory_id, record.forum_id)
    if access is None:
        return None
    if record.hidden_at is not None and not (
        access.standing.moderates or info.context.caller.is_account(*record.author)
    ):
        return None
    return record, access


async def comment_in(
    info: Info, territory_id: str, key: uuid.UUID
) -> tuple[CommentRecord, Access] | None:
    """A comment the caller may see (its topic visible), with its forum's access."""
    found = await info.context.loaders.get(COMMENT_BY_ID, territory_id).load(key)
    if found is None:
        return None
    record, _forum_id = found
    if await topic_in(info, territory_id, record.topic_id) is None:
        return None
    access = await forum_by_id(info, territory_id, _forum_id)
    return None if access is None else (record, access)


async def log_entry_in(
    info: Info, territory_id: str, key: uuid.UUID
) -> ForumModerationEntry | None:
    """A moderation log entry: only the moderators of its forum see it."""
    record = await info.context.loaders.get(LOG_ENTRY, territory_id).load(key)
    if record is None or record.forum_id is None:
        return None
    access = await forum_by_id(info, territory_id, record.forum_id)
    if access is None or not access.standing.moderates:
        return None
    return ForumModerationEntry.from_record(territory_id, record)


# --- live


@strawberry.enum(description="What happened to a topic of a forum.")
class ForumTopicEventKind(Enum):
    CREATED = strawberry.enum_value("forum.topic_created", description="It was opened.")
    COMMENTED = strawberry.enum_value(
        "forum.comment_added", description="Someone commented on it (its activity moved)."
    )
    MODERATED = strawberry.enum_value(
        "forum.moderated", description="A moderator closed, reopened, pinned, hid... it."
    )


@strawberry.type(
    description="A topic of a forum just changed; `topic` is read afresh, as you may see it now."
)
class ForumTopicEvent:
    id: strawberry.ID = strawberry.field(description="The event's id (a UUIDv7, time-ordered).")
    kind: ForumTopicEventKind = strawberry.field(description="What happened.")
    occurred_at: datetime = strawberry.field(description="When it was committed (UTC).")
    topic: ForumTopic | None = strawberry.field(
        description="The topic as you may see it now; null when it is hidden from you."
    )
