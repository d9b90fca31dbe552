"""The social group rules (domain/social_groups.py), without a database.

Limits are written out as numbers here, not read from the module under test.
"""

from __future__ import annotations

import pytest

from domain.errors import BadUserInput
from domain.social_groups import (
    SocialGroupKind,
    check_deletable,
    check_not_self,
    check_renamable,
    check_room_for_group,
    check_room_for_member,
    validate_group_name,
)


@pytest.mark.parametrize(
    ("given", "kept"),
    [(" Choir ", "Choir"), ("Choir\nsingers", "Choir singers"), ("x" * 64, "x" * 64)],
)
def test_group_names_are_one_trimmed_line(given: str, kept: str) -> None:
    assert validate_group_name(given) == kept


@pytest.mark.parametrize("bad", ["", "   ", "x" * 65, "a\x00b", "x\u202egnp"])
def test_bad_group_names(bad: str) -> None:
    with pytest.raises(BadUserInput):
        validate_group_name(bad)


@pytest.mark.parametrize("reserved", ["family", "Friends", " FAMILY "])
def test_family_and_friends_are_reserved_names(reserved: str) -> None:
    with pytest.raises(BadUserInput, match="already exist"):
        validate_group_name(reserved)


@pytest.mark.parametrize("kind", [SocialGroupKind.FAMILY, SocialGroupKind.FRIENDS])
def test_default_groups_keep_their_names_and_stay(kind: SocialGroupKind) -> None:
    with pytest.raises(BadUserInput, match="keep their names"):
        check_renamable(kind)
    with pytest.raises(BadUserInput, match="cannot be deleted"):
        check_deletable(kind)


def test_custom_groups_can_be_renamed_and_deleted() -> None:
    check_renamable(SocialGroupKind.CUSTOM)
    check_deletable(SocialGroupKind.CUSTOM)


def test_at_most_fifty_custom_groups() -> None:
    check_room_for_group(49)
    with pytest.raises(BadUserInput, match="at most 50"):
        check_room_for_group(50)


def test_at_most_a_thousand_members() -> None:
    check_room_for_member(999)
    with pytest.raises(BadUserInput, match="at most 1000"):
        check_room_for_member(1000)


def test_the_owner_is_never_their_own_member() -> None:
    check_not_self(False)
    with pytest.raises(BadUserInput):
        check_not_self(True)
