"""The forums' pure rules: text limits, tags, who sees and posts, votes, the three-strike rule."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from domain.badges import BadgeRef, Scope
from domain.callers import Caller
from domain.errors import BadUserInput, Forbidden
from domain.forums import (
    COMMENT_MAX,
    STRIKE_LIFETIME,
    TAGS_MAX,
    TITLE_MAX,
    BadgeRequired,
    ForumClosed,
    ForumFacts,
    ForumLevel,
    ForumVisibility,
    PostingRestricted,
    Standing,
    VoteValue,
    active_strikes,
    check_may_post,
    is_restricted,
    level_of,
    restricted_by_strikes,
    scope_of,
    validate_comment,
    validate_tags,
    validate_title,
    visible_to,
    vote_delta,
)

NOW = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)
BADGE = BadgeRef("dk", uuid.UUID(int=1))
DANE = Caller(user_id=str(uuid.UUID(int=2)), territory_id="dk")
SWEDE = Caller(user_id=str(uuid.UUID(int=3)), territory_id="se")
ANONYMOUS = Caller()


def facts(**changes: object) -> ForumFacts:
    values: dict[str, object] = {
        "territory_id": "dk",
        "level": ForumLevel.TERRITORY,
        "community_id": None,
        "visibility": ForumVisibility.PUBLIC,
        "is_open": True,
        "read_badges": (),
        "post_badges": (),
    }
    values.update(changes)
    return ForumFacts(**values)  # type: ignore[arg-type]


def standing(**changes: object) -> Standing:
    values: dict[str, object] = {
        "is_member": True,
        "badges": frozenset(),
        "may_read": False,
        "may_post": False,
        "moderates": False,
    }
    values.update(changes)
    return Standing(**values)  # type: ignore[arg-type]


# --- text


def test_text_is_kept_exactly_as_given() -> None:
    assert validate_comment("  <b>bold</b>\n\tindented  ") == "  <b>bold</b>\n\tindented  "


@pytest.mark.parametrize("limit", [COMMENT_MAX])
def test_comment_length_limit(limit: int) -> None:
    assert validate_comment("x" * limit)
    with pytest.raises(BadUserInput):
        validate_comment("x" * (limit + 1))


def test_title_is_one_line_and_bounded() -> None:
    assert validate_title("x" * TITLE_MAX)
    with pytest.raises(BadUserInput):
        validate_title("x" * (TITLE_MAX + 1))
    with pytest.raises(BadUserInput):
        validate_title("two\nlines")


@pytest.mark.parametrize("value", ["", "   ", "a\x00b"])
def test_empty_or_control_text_is_refused(value: str) -> None:
    with pytest.raises(BadUserInput):
        validate_comment(value)


def test_tags_are_slugs_deduplicated_and_bounded() -> None:
    assert validate_tags(["Seeds", "seeds", "soil-care"]) == ("seeds", "soil-care")
    assert len(validate_tags([f"t{i}" for i in range(TAGS_MAX)])) == TAGS_MAX
    with pytest.raises(BadUserInput):
        validate_tags([f"t{i}" for i in range(TAGS_MAX + 1)])
    with pytest.raises(BadUserInput):
        validate_tags(["not a tag"])


# --- levels and who sees


def test_level_of() -> None:
    assert level_of("global", None) is ForumLevel.GLOBAL
    assert level_of("dk", None) is ForumLevel.TERRITORY
    assert level_of("dk", uuid.UUID(int=9)) is ForumLevel.COMMUNITY


def test_scope_follows_the_level() -> None:
    assert scope_of(facts(level=ForumLevel.GLOBAL, territory_id="global")) == Scope.everywhere()
    assert scope_of(facts()) == Scope.territory("dk")
    community = uuid.UUID(int=9)
    assert scope_of(facts(level=ForumLevel.COMMUNITY, community_id=community)) == Scope.community(
        "dk", community
    )


def test_a_territory_forum_is_for_its_own_accounts_only() -> None:
    assert visible_to(DANE, facts(), standing())
    assert not visible_to(SWEDE, facts(), standing())
    assert not visible_to(ANONYMOUS, facts(), standing())


def test_a_global_forum_is_for_everyone() -> None:
    forum = facts(level=ForumLevel.GLOBAL, territory_id="global")
    assert all(visible_to(c, forum, standing()) for c in (DANE, SWEDE, ANONYMOUS))


def test_a_community_forum_is_for_its_members() -> None:
    forum = facts(level=ForumLevel.COMMUNITY, community_id=uuid.UUID(int=9))
    assert visible_to(DANE, forum, standing())
    assert not visible_to(DANE, forum, standing(is_member=False))


def test_a_moderators_forum_is_for_moderators() -> None:
    forum = facts(visibility=ForumVisibility.MODERATORS)
    assert not visible_to(DANE, forum, standing())
    assert visible_to(DANE, forum, standing(moderates=True))


def test_read_badges_or_forum_read() -> None:
    forum = facts(read_badges=(BADGE,))
    assert not visible_to(DANE, forum, standing())
    assert visible_to(DANE, forum, standing(badges=frozenset({BADGE})))
    assert visible_to(DANE, forum, standing(may_read=True))


# --- posting


def test_posting_needs_an_account() -> None:
    with pytest.raises(Forbidden):
        check_may_post(ANONYMOUS, facts(), standing(), restricted=False)


def test_posting_in_a_closed_forum() -> None:
    with pytest.raises(ForumClosed):
        check_may_post(DANE, facts(is_open=False), standing(), restricted=False)
    check_may_post(DANE, facts(is_open=False), standing(moderates=True), restricted=False)


def test_posting_needs_the_post_badges_or_forum_post() -> None:
    forum = facts(post_badges=(BADGE,))
    with pytest.raises(BadgeRequired) as refused:
        check_may_post(DANE, forum, standing(), restricted=False)
    assert refused.value.code == "BADGE_REQUIRED"
    check_may_post(DANE, forum, standing(badges=frozenset({BADGE})), restricted=False)
    check_may_post(DANE, forum, standing(may_post=True), restricted=False)


def test_a_restricted_person_cannot_post() -> None:
    with pytest.raises(PostingRestricted) as refused:
        check_may_post(DANE, facts(), standing(), restricted=True)
    assert refused.value.code == "POSTING_RESTRICTED"


# --- votes


@pytest.mark.parametrize(
    ("previous", "new", "delta"),
    [
        (None, VoteValue.UP, (1, 0)),
        (None, VoteValue.DOWN, (0, 1)),
        (VoteValue.UP, VoteValue.DOWN, (-1, 1)),
        (VoteValue.DOWN, VoteValue.UP, (1, -1)),
        (VoteValue.UP, None, (-1, 0)),
        (VoteValue.DOWN, None, (0, -1)),
        (VoteValue.UP, VoteValue.UP, (0, 0)),
        (None, None, (0, 0)),
    ],
)
def test_vote_delta(
    previous: VoteValue | None, new: VoteValue | None, delta: tuple[int, int]
) -> None:
    assert vote_delta(previous, new) == delta


# --- strikes


def test_strikes_expire_after_their_lifetime() -> None:
    issued = [NOW - STRIKE_LIFETIME, NOW - STRIKE_LIFETIME + timedelta(seconds=1), NOW]
    assert active_strikes(issued, NOW) == 2


def test_a_strike_issued_later_does_not_count_yet() -> None:
    assert active_strikes([NOW + timedelta(seconds=1)], NOW) == 0


def test_the_third_active_strike_restricts() -> None:
    two = [NOW - timedelta(days=1), NOW]
    assert not restricted_by_strikes(two, NOW)
    assert restricted_by_strikes([*two, NOW], NOW)
    # One of three expired: not restricted any more.
    assert not restricted_by_strikes([NOW - STRIKE_LIFETIME, *two], NOW)


def test_a_moderators_restriction_until_an_end() -> None:
    assert is_restricted([], None, True, NOW)
    assert is_restricted([], NOW + timedelta(seconds=1), True, NOW)
    assert not is_restricted([], NOW, True, NOW)
    assert not is_restricted([], None, False, NOW)
    assert is_restricted([NOW, NOW, NOW], None, False, NOW)
