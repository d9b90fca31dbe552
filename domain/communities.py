"""Communities inside a territory: names, membership roles and who may change membership.

A community lives in one territory's schema and its members are accounts of that territory (a
person of another territory joins communities of their own). Public communities are joined
directly; invite-only ones only through a community admin (or a territory manager) adding the
person. Every community keeps at least one admin, so it never ends up unmanageable.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable
from enum import StrEnum

from domain.callers import Caller
from domain.errors import BadUserInput
from domain.profiles import clean_text
from domain.roles import can_manage_territory, is_global_admin

SLUG = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*", re.ASCII)
SLUG_MAX = 64
NAME_MAX = 120
DESCRIPTION_MAX = 2000


class CommunityRole(StrEnum):
    """A member's standing in one community; only admins (and territory managers) manage it."""

    MEMBER = "member"
    MODERATOR = "moderator"
    ADMIN = "admin"


def validate_slug(value: str) -> str:
    slug = value.strip().lower()
    if len(slug) > SLUG_MAX or SLUG.fullmatch(slug) is None:
        raise BadUserInput(
            f"A community slug has at most {SLUG_MAX} characters: lower-case letters and digits "
            "in groups joined by single hyphens ('repair-cafe')."
        )
    return slug


def validate_name(value: str, *, what: str = "community name", limit: int = NAME_MAX) -> str:
    """One line: runs of white space (line breaks too) become one space; no control characters."""
    name = clean_text(" ".join(value.split()), limit=limit, what=what, multiline=False)
    if not name:
        raise BadUserInput(f"A {what} cannot be empty.")
    return name


def validate_description(value: str) -> str:
    return clean_text(value, limit=DESCRIPTION_MAX, what="description", multiline=True) or ""


def can_manage_members(
    caller_roles: Iterable[str], territory_id: str, caller_community_role: CommunityRole | None
) -> bool:
    """Add members and change their roles: the community's admins and the territory's managers."""
    return caller_community_role is CommunityRole.ADMIN or can_manage_territory(
        caller_roles, territory_id
    )


def account_in(caller: Caller, territory_id: str) -> uuid.UUID | None:
    """The caller's user id when they are an account of ``territory_id``: only those hold
    memberships there (a person of another territory joins communities of their own)."""
    if caller.user_id is None or caller.territory_id != territory_id:
        return None
    return uuid.UUID(caller.user_id)


def hidden_from(
    caller_roles: Iterable[str],
    territory_id: str,
    *,
    is_public: bool,
    caller_community_role: CommunityRole | None,
) -> bool:
    """An invite-only community is invisible to all but its members and the territory's
    managers: to anyone else it must look like a missing one (NOT_FOUND, never FORBIDDEN)."""
    return (
        not is_public
        and caller_community_role is None
        and not can_manage_territory(caller_roles, territory_id)
    )


def can_list_members(caller: Caller, territory_id: str) -> bool:
    """Member lists are for accounts of the community's territory (and global admins); each
    member's profile is still shown only as far as that member's privacy allows."""
    return caller.territory_id == territory_id or is_global_admin(caller.roles)


def check_admins_remain(admin_count: int, *, losing_admin: bool) -> None:
    """Refuse a change that would leave the community without an admin."""
    if losing_admin and admin_count <= 1:
        raise BadUserInput("A community keeps at least one admin: appoint another one first.")
