"""The role model: who may do what, as plain rules over a caller's role grants.

A grant is a role, scoped to one territory except ``global_admin`` (the whole federation). Grants
travel in the access token as compact strings, ``global_admin`` or ``<role>:<territory>``
(``territory_manager:dk``), so every request is authorized without a database read; they are
read fresh from ``global.role_assignments`` at login and at every refresh.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from domain.errors import BadUserInput
from domain.territories import validate_territory_id


class Role(StrEnum):
    GLOBAL_ADMIN = "global_admin"
    TERRITORY_MANAGER = "territory_manager"
    MODERATOR = "moderator"
    CONTENT_CREATOR = "content_creator"
    MEMBER = "member"


# Roles a territory manager hands out inside their own territories. Making someone a manager, or a
# global admin, takes a global admin: the federation decides who runs a territory.
MANAGER_ASSIGNABLE = frozenset({Role.MODERATOR, Role.CONTENT_CREATOR, Role.MEMBER})
# Roles whose holders may read the accounts of their territory (moderation, management).
ACCOUNT_READERS = frozenset({Role.TERRITORY_MANAGER, Role.MODERATOR})


@dataclass(frozen=True, slots=True)
class Grant:
    role: Role
    territory_id: str | None

    def __post_init__(self) -> None:
        if (self.role is Role.GLOBAL_ADMIN) != (self.territory_id is None):
            raise BadUserInput("global_admin has no territory; every other role needs one.")

    def encode(self) -> str:
        return self.role.value if self.territory_id is None else f"{self.role}:{self.territory_id}"

    @classmethod
    def parse(cls, value: str) -> Grant:
        name, _, territory = value.partition(":")
        try:
            role = Role(name)
        except ValueError:
            raise BadUserInput("Unknown role.") from None
        return cls(role, validate_territory_id(territory) if territory else None)


def is_global_admin(roles: Iterable[str]) -> bool:
    return Role.GLOBAL_ADMIN.value in roles


def has_role_in(roles: Iterable[str], territory_id: str, allowed: Iterable[Role]) -> bool:
    """Whether the grants include one of ``allowed`` in ``territory_id`` (admins always do)."""
    held = frozenset(roles)
    if Role.GLOBAL_ADMIN.value in held:
        return True
    return any(f"{role}:{territory_id}" in held for role in allowed)


def can_manage_territory(roles: Iterable[str], territory_id: str) -> bool:
    """Invitations and role grants of a territory: its managers and global admins."""
    return has_role_in(roles, territory_id, (Role.TERRITORY_MANAGER,))


def can_read_accounts(roles: Iterable[str], territory_id: str) -> bool:
    return has_role_in(roles, territory_id, ACCOUNT_READERS)


def can_assign(roles: Iterable[str], grant: Grant) -> bool:
    """Whether a caller holding ``roles`` may grant or revoke ``grant``."""
    held = frozenset(roles)
    if Role.GLOBAL_ADMIN.value in held:
        return True
    return (
        grant.territory_id is not None
        and grant.role in MANAGER_ASSIGNABLE
        and can_manage_territory(held, grant.territory_id)
    )


def check_recipient(grant: Grant, account_territory: str) -> None:
    """Roles in a territory go only to that territory's accounts; GLOBAL_ADMIN (a grant of no
    territory) is the one role any account may hold.

    Why: a dk manager could make an se account a dk moderator, who then read every dk account's
    username and email, data dk's members entrusted to dk. Other territories' people take part
    through membership of communities and groups, never through roles. Enforced for
    ``assignRole`` and invitations; revoking such a grant made earlier stays possible.
    """
    if grant.territory_id is not None and grant.territory_id != account_territory:
        raise BadUserInput(
            f"Roles in {grant.territory_id} go only to accounts of {grant.territory_id}.",
            field="userId",
        )
