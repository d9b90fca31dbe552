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


def refusal(call: object, *args: object) -> str:
    with pytest.raises(BadUserInput) as refused:
        call(*args)  # type: ignore[operator]
    return refused.value.message


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        ("", "A group name cannot be empty."),
        ("   ", "A group name cannot be empty."),
        ("x" * 65, "The group name has at most 64 characters."),
        ("a\x00b", "The group name contains control characters."),
        ("x\u202egnp", "The group name contains control characters."),
    ],
)
def test_bad_group_names(bad: str, message: str) -> None:
    assert refusal(validate_group_name, bad) == message


@pytest.mark.parametrize("reserved", ["family", "Friends", " FAMILY "])
def test_family_and_friends_are_reserved_names(reserved: str) -> None:
    assert refusal(validate_group_name, reserved) == (
        "Family and Friends already exist; choose another name."
    )


@pytest.mark.parametrize("near", ["families", "my friends", "Family 2"])
def test_names_near_the_reserved_ones_are_fine(near: str) -> None:
    assert validate_group_name(near) == near


@pytest.mark.parametrize("kind", ["family", "friends"])
def test_default_groups_keep_their_names_and_stay(kind: str) -> None:
    assert refusal(check_renamable, SocialGroupKind(kind)) == "Family and Friends keep their names."
    assert refusal(check_deletable, SocialGroupKind(kind)) == (
        "Family and Friends cannot be deleted; remove members instead."
    )


def test_custom_groups_can_be_renamed_and_deleted() -> None:
    check_renamable(SocialGroupKind.CUSTOM)
    check_deletable(SocialGroupKind.CUSTOM)


def test_at_most_fifty_custom_groups() -> None:
    check_room_for_group(49)
    assert refusal(check_room_for_group, 50) == "You can keep at most 50 custom groups."


def test_at_most_a_thousand_members() -> None:
    check_room_for_member(999)
    assert refusal(check_room_for_member, 1000) == "A group has at most 1000 members."


def test_the_owner_is_never_their_own_member() -> None:
    assert check_not_self(False) is None
    assert refusal(check_not_self, True) == "You cannot add yourself to your own group."
