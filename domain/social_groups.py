"""Social group rules: names, kinds and limits, decided without a database.

Family and Friends exist for every person and define the FAMILY and FRIENDS visibilities, so
they keep their names and cannot be deleted; custom groups are the owner's to make, within
limits that keep one person's groups (and the privacy decision that reads them) small.
"""

from __future__ import annotations

from enum import StrEnum

from domain.communities import validate_name
from domain.errors import BadUserInput

GROUP_NAME_MAX = 64
MAX_CUSTOM_GROUPS = 50
MAX_GROUP_MEMBERS = 1000


class SocialGroupKind(StrEnum):
    FAMILY = "family"
    FRIENDS = "friends"
    CUSTOM = "custom"


DEFAULT_KINDS = (SocialGroupKind.FAMILY, SocialGroupKind.FRIENDS)
MAX_GROUPS = len(DEFAULT_KINDS) + MAX_CUSTOM_GROUPS
"""Every group one person can have: the most a privacy setting can name."""

_RESERVED = frozenset({"family", "friends"})


def validate_group_name(value: str) -> str:
    """One line, at most ``GROUP_NAME_MAX`` characters; never a second Family or Friends, so a
    name always tells which group defines a visibility."""
    name = validate_name(value, what="group name", limit=GROUP_NAME_MAX)
    if name.lower() in _RESERVED:
        raise BadUserInput("Family and Friends already exist; choose another name.")
    return name


def check_renamable(kind: SocialGroupKind) -> None:
    if kind is not SocialGroupKind.CUSTOM:
        raise BadUserInput("Family and Friends keep their names.")


def check_deletable(kind: SocialGroupKind) -> None:
    if kind is not SocialGroupKind.CUSTOM:
        raise BadUserInput("Family and Friends cannot be deleted; remove members instead.")


def check_room_for_group(custom_count: int) -> None:
    if custom_count >= MAX_CUSTOM_GROUPS:
        raise BadUserInput(f"You can keep at most {MAX_CUSTOM_GROUPS} custom groups.")


def check_room_for_member(member_count: int) -> None:
    if member_count >= MAX_GROUP_MEMBERS:
        raise BadUserInput(f"A group has at most {MAX_GROUP_MEMBERS} members.")


def check_not_self(is_owner: bool) -> None:
    """The owner is never in their own group: a relation to oneself is always SELF."""
    if is_owner:
        raise BadUserInput("You cannot add yourself to your own group.")
