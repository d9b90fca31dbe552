"""The forums' GraphQL enums: the domain's enums, each value described."""

from __future__ import annotations

from domain.forums import (
    CommentOrder,
    ContentKind,
    FlagReason,
    ForumLevel,
    ForumVisibility,
    ModerationAction,
    VoteValue,
)
from graph.types.enums import described_enum

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
