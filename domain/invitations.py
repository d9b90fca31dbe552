"""Invitations: who may register in a territory.

A token reads ``<territory>.<secret>``: the territory part routes the lookup to the one schema
that holds the invitation (it is no secret: it says where you are invited), the secret is 256
random bits of which only the SHA-256 is stored. An invitation is single-use (``max_uses`` 1) or
a group invitation (``max_uses`` N), optionally bound to one email address, and valid until it
expires, is revoked or is used up.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from domain.accounts import new_secret
from domain.callers import Caller
from domain.errors import (
    BadUserInput,
    InvitationEmailMismatch,
    InvitationExhausted,
    InvitationExpired,
    InvitationNotFound,
    InvitationRevoked,
)
from domain.roles import Role
from domain.territories import validate_territory_id

MAX_TOKEN_LENGTH = 120
MAX_USES = 10_000


@dataclass(frozen=True, slots=True)
class InvitationState:
    """What the rules need of a stored invitation."""

    email: str | None
    max_uses: int
    use_count: int
    expires_at: datetime
    revoked_at: datetime | None


def new_token(territory_id: str) -> str:
    return f"{validate_territory_id(territory_id)}.{new_secret()}"


def territory_of(token: str) -> str:
    """The territory a token routes to; any malformed token is simply not found."""
    if not isinstance(token, str) or len(token) > MAX_TOKEN_LENGTH or "." not in token:
        raise InvitationNotFound("No such invitation.")
    territory, _, secret = token.partition(".")
    if not secret:
        raise InvitationNotFound("No such invitation.")
    try:
        return validate_territory_id(territory)
    except BadUserInput:
        raise InvitationNotFound("No such invitation.") from None


def check_usable(state: InvitationState, *, now: datetime, email: str | None) -> None:
    """Raise the specific invitation error, or return if ``email`` may register with it.

    ``email`` None checks everything but the address (the signup page's ``validateInvitation``).
    Revocation is checked first: a revoked invitation says so even once it has expired too.
    """
    if state.revoked_at is not None:
        raise InvitationRevoked("This invitation has been revoked.")
    if state.expires_at <= now:
        raise InvitationExpired("This invitation has expired.")
    if state.use_count >= state.max_uses:
        raise InvitationExhausted("This invitation has already been used.")
    if email is not None and state.email is not None and state.email.casefold() != email.casefold():
        raise InvitationEmailMismatch("This invitation is for another email address.")


MIN_TTL_SECONDS = 60
MAX_TTL_SECONDS = 366 * 24 * 3600


def check_max_uses(max_uses: int) -> None:
    if not 1 <= max_uses <= MAX_USES:
        raise BadUserInput(f"An invitation allows 1 to {MAX_USES} uses.")


def check_lifetime(ttl_seconds: int) -> None:
    if not MIN_TTL_SECONDS <= ttl_seconds <= MAX_TTL_SECONDS:
        raise BadUserInput("An invitation lasts between a minute and a year.")


def check_role(territory_id: str, role: Role) -> None:
    """A global admin is federation-wide, so only the ``global`` territory invites one."""
    if role is Role.GLOBAL_ADMIN and territory_id != "global":
        raise BadUserInput("A global admin is invited into the 'global' territory.")


def validate_new(*, territory_id: str, max_uses: int, role: Role, ttl_seconds: int) -> None:
    """Every rule of a new invitation's terms, for callers with no input fields to name."""
    check_max_uses(max_uses)
    check_lifetime(ttl_seconds)
    check_role(territory_id, role)


def recorded_creator(caller: Caller, territory_id: str) -> uuid.UUID | None:
    """Who an invitation records as its creator: ``created_by`` references the territory's own
    users, so it is set only for an account of that territory (a global admin's is not)."""
    if caller.territory_id == territory_id and caller.user_id is not None:
        return uuid.UUID(caller.user_id)
    return None
