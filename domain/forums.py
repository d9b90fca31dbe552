"""Forums: who may read and post where, text limits, votes, and the three-strike rule.

Forums live in a territory's schema. A forum of the ``global`` territory is a GLOBAL forum: any
account of any territory reads and posts there (authors are stored as (territory, user id)
references and resolved from their own territory). A TERRITORY forum belongs to one territory, a
COMMUNITY forum to one community inside it; both are invisible (NOT_FOUND) to accounts of other
territories. Forums form a tree (categories and subcategories are forums with children).

Text (titles, bodies, comments) is stored and returned exactly as given: the API never renders
it to HTML, so a client must escape it (or render it as Markdown with a sanitiser) itself. Only
NUL and other control characters are refused, and lengths are bounded.

Moderation: a warning is a strike. Strikes expire ``STRIKE_LIFETIME`` after they were issued; the
``STRIKES_TO_RESTRICT``-th active strike restricts the person from posting in the territory's
forums until the restriction is lifted or its strikes expire. A moderator may also restrict
directly (with an optional end).
"""

from __future__ import annotations

import re
import unicodedata
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from domain.badges import BadgeRef, Scope
from domain.callers import Caller
from domain.errors import BadUserInput, Forbidden, UserFacingError

GLOBAL_TERRITORY = "global"
"""The territory whose forums are GLOBAL: open to the accounts of every territory."""

NAME_MAX = 120
DESCRIPTION_MAX = 2000
TITLE_MAX = 200
TOPIC_BODY_MAX = 20_000
COMMENT_MAX = 10_000
REASON_MAX = 1000
TAGS_MAX = 5
TAG = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*", re.ASCII)
TAG_MAX = 32

STRIKES_TO_RESTRICT = 3
"""The active strike that restricts posting (the third)."""
STRIKE_LIFETIME = timedelta(days=90)
"""How long a strike counts after it was issued."""


class ForumLevel(StrEnum):
    """Where a forum sits: the federation, one territory, or one community of a territory."""

    GLOBAL = "global"
    TERRITORY = "territory"
    COMMUNITY = "community"


class ForumVisibility(StrEnum):
    """Who may read a forum, before its required badges are checked."""

    PUBLIC = "public"
    MODERATORS = "moderators"


class CommentOrder(StrEnum):
    """How a page of comments is sorted."""

    OLDEST = "oldest"
    NEWEST = "newest"
    TOP = "top"


class FlagReason(StrEnum):
    """Why someone flagged a topic or comment."""

    OFF_TOPIC = "off_topic"
    INAPPROPRIATE = "inappropriate"
    SPAM = "spam"
    ILLEGAL = "illegal"
    OTHER = "other"


class ContentKind(StrEnum):
    """What a flag or moderation action is about."""

    TOPIC = "topic"
    COMMENT = "comment"
    USER = "user"


class ModerationAction(StrEnum):
    """Every kind of step the moderation log records."""

    FLAGGED = "flagged"
    FLAG_DISMISSED = "flag_dismissed"
    HIDDEN = "hidden"
    RESTORED = "restored"
    WARNED = "warned"
    RESTRICTED = "restricted"
    UNRESTRICTED = "unrestricted"
    ESCALATED = "escalated"
    TOPIC_CLOSED = "topic_closed"
    TOPIC_REOPENED = "topic_reopened"
    TOPIC_PINNED = "topic_pinned"
    TOPIC_UNPINNED = "topic_unpinned"


class EscalationTarget(StrEnum):
    """Who an escalated case goes to."""

    TERRITORY_MANAGERS = "territory_managers"
    GLOBAL_ADMINS = "global_admins"


class VoteValue(StrEnum):
    """A vote on a comment: one per person, changed or retracted at will."""

    UP = "up"
    DOWN = "down"


class PostingRestricted(UserFacingError):
    """The caller may not post in this territory's forums (three strikes, or a moderator)."""

    code = "POSTING_RESTRICTED"


class TopicClosed(UserFacingError):
    """Closed topics take no new comments."""

    code = "TOPIC_CLOSED"


class ForumClosed(UserFacingError):
    """Closed forums take no new topics or comments."""

    code = "FORUM_CLOSED"


class BadgeRequired(Forbidden):
    """The forum asks for a badge (or the forum.read/forum.post permission) the caller lacks."""

    code = "BADGE_REQUIRED"


Author = tuple[str, uuid.UUID]
"""(territory, user id) of a person: how forums refer to people, never by their data."""


def level_of(territory_id: str, community_id: uuid.UUID | None) -> ForumLevel:
    if territory_id == GLOBAL_TERRITORY:
        return ForumLevel.GLOBAL
    return ForumLevel.TERRITORY if community_id is None else ForumLevel.COMMUNITY


# --- text


def _check_text(value: str, *, limit: int, what: str, multiline: bool) -> str:
    """``value`` as given (never normalised or rendered): non-empty, bounded, no control
    characters besides line feeds and tabs in multi-line text."""
    for c in value:
        category = unicodedata.category(c)
        if (category == "Cc" and not (multiline and c in "\n\t\r")) or category == "Cs":
            raise BadUserInput(f"The {what} contains control characters.")
    if not value.strip():
        raise BadUserInput(f"The {what} cannot be empty.")
    if len(value) > limit:
        raise BadUserInput(f"The {what} has at most {limit} characters.")
    return value


def validate_name(value: str) -> str:
    return _check_text(value, limit=NAME_MAX, what="forum name", multiline=False)


def validate_description(value: str) -> str:
    if not value:
        return ""
    return _check_text(value, limit=DESCRIPTION_MAX, what="description", multiline=True)


def validate_title(value: str) -> str:
    return _check_text(value, limit=TITLE_MAX, what="title", multiline=False)


def validate_topic_body(value: str) -> str:
    return _check_text(value, limit=TOPIC_BODY_MAX, what="body", multiline=True)


def validate_comment(value: str) -> str:
    return _check_text(value, limit=COMMENT_MAX, what="comment", multiline=True)


def validate_reason(value: str) -> str:
    if not value:
        return ""
    return _check_text(value, limit=REASON_MAX, what="reason", multiline=True)


def validate_tags(values: Sequence[str]) -> tuple[str, ...]:
    """Lower-case slugs, at most ``TAGS_MAX``, duplicates dropped, order kept."""
    tags: list[str] = []
    for value in values:
        tag = value.strip().lower()
        if len(tag) > TAG_MAX or TAG.fullmatch(tag) is None:
            raise BadUserInput(
                f"A tag has at most {TAG_MAX} characters: lower-case letters and digits in "
                "groups joined by single hyphens."
            )
        if tag not in tags:
            tags.append(tag)
    if len(tags) > TAGS_MAX:
        raise BadUserInput(f"A topic has at most {TAGS_MAX} tags.")
    return tuple(tags)


# --- who may


@dataclass(frozen=True, slots=True)
class ForumFacts:
    """What access to one forum depends on, besides the caller."""

    territory_id: str
    level: ForumLevel
    community_id: uuid.UUID | None
    visibility: ForumVisibility
    is_open: bool
    read_badges: tuple[BadgeRef, ...]
    post_badges: tuple[BadgeRef, ...]


@dataclass(frozen=True, slots=True)
class Standing:
    """What the caller holds that matters for one forum: decided per batch, not per object.

    ``is_member``: a member of the community of a COMMUNITY forum (always True elsewhere);
    ``badges``: the badge ids the caller holds; ``may_read``/``may_post``: the forum.read and
    forum.post permissions for the forum's scope; ``moderates``: forum.moderate there.
    """

    is_member: bool
    badges: frozenset[BadgeRef]
    may_read: bool
    may_post: bool
    moderates: bool


def visible_to(caller: Caller, facts: ForumFacts, standing: Standing) -> bool:
    """Whether the caller sees the forum (else NOT_FOUND). Its moderators see every forum of
    their scope. Others: a MODERATORS forum is for moderators only; a GLOBAL forum is anyone's
    (anonymous callers included); a TERRITORY or COMMUNITY forum only its territory's accounts
    (and a COMMUNITY forum only the community's members); then the read badges decide."""
    if standing.moderates:
        return True
    if facts.visibility is ForumVisibility.MODERATORS:
        return False
    if facts.level is not ForumLevel.GLOBAL and (
        caller.territory_id != facts.territory_id or not caller.is_authenticated
    ):
        return False
    if not standing.is_member:
        return False
    return caller_may_read(facts, standing)


def caller_may_read(facts: ForumFacts, standing: Standing) -> bool:
    """Read badges: the forum.read permission or every badge the forum names for reading."""
    if not facts.read_badges:
        return True
    return standing.may_read or set(facts.read_badges) <= standing.badges


def check_may_post(
    caller: Caller, facts: ForumFacts, standing: Standing, *, restricted: bool
) -> None:
    """Refuse a new topic or comment: FORUM_CLOSED, BADGE_REQUIRED, POSTING_RESTRICTED."""
    if not caller.is_authenticated:
        raise Forbidden("Log in to post.")
    if not facts.is_open and not standing.moderates:
        raise ForumClosed("This forum is closed.")
    if facts.post_badges and not (standing.may_post or set(facts.post_badges) <= standing.badges):
        raise BadgeRequired("This forum asks for a badge you do not hold to post.")
    if restricted:
        raise PostingRestricted(
            "You are restricted from posting in this territory's forums (three active strikes, "
            "or a moderator's restriction)."
        )


def scope_of(facts: ForumFacts) -> Scope:
    """The scope whose forum.read/forum.post/forum.moderate holders read, post and moderate
    here: everywhere for a GLOBAL forum, else its territory or its community."""
    if facts.level is ForumLevel.GLOBAL:
        return Scope.everywhere()
    if facts.community_id is None:
        return Scope.territory(facts.territory_id)
    return Scope.community(facts.territory_id, facts.community_id)


def check_moderates(standing: Standing) -> None:
    if not standing.moderates:
        raise Forbidden("Only this forum's moderators may do this.")


def check_author(caller: Caller, author: Author) -> None:
    """Only the author edits their own topic or comment."""
    if not caller.is_account(*author):
        raise Forbidden("Only the author may edit this.")


# --- votes


def vote_delta(previous: VoteValue | None, new: VoteValue | None) -> tuple[int, int]:
    """(change of up votes, change of down votes) when a vote goes from ``previous`` to
    ``new`` (None: no vote): one vote per person, changed or retracted."""
    up = (new is VoteValue.UP) - (previous is VoteValue.UP)
    down = (new is VoteValue.DOWN) - (previous is VoteValue.DOWN)
    return up, down


# --- strikes


def active_strikes(issued: Iterable[datetime], now: datetime) -> int:
    """Strikes issued within ``STRIKE_LIFETIME`` before ``now``."""
    return sum(1 for at in issued if at <= now < at + STRIKE_LIFETIME)


def restricted_by_strikes(issued: Iterable[datetime], now: datetime) -> bool:
    return active_strikes(issued, now) >= STRIKES_TO_RESTRICT


def is_restricted(
    issued: Iterable[datetime],
    restricted_until: datetime | None,
    restricted: bool,
    now: datetime,
) -> bool:
    """Posting is refused while strikes reach the limit, or a moderator's restriction stands
    (``restricted`` with no end, or an end still ahead)."""
    manual = restricted and (restricted_until is None or now < restricted_until)
    return manual or restricted_by_strikes(issued, now)
