"""Accounts: usernames, emails, identity hashes and the opaque secrets we hand out.

Opaque secrets (invitation and refresh tokens) carry 256 random bits and are stored only as their
SHA-256: a leaked table yields nothing that can be presented. A fast hash is enough because the
input is uniformly random; passwords, which are not, use argon2id (``domain.passwords``).
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import unicodedata
import uuid

from domain.callers import Caller
from domain.errors import BadUserInput
from domain.profiles import clean_text
from domain.roles import can_read_accounts
from domain.territories import validate_territory_id

USERNAME_RE = re.compile(r"[a-z0-9](?:[a-z0-9_.-]{1,30})[a-z0-9]", re.ASCII)
EMAIL_MAX = 254
DISPLAY_NAME_MAX = 128
SECRET_BYTES = 32  # 256 bits


def validate_username(value: str) -> str:
    """3-32 characters: lower-case ASCII letters, digits, '.', '_', '-'; stored lower-case."""
    username = value.strip().lower()
    if USERNAME_RE.fullmatch(username) is None:
        raise BadUserInput(
            "A username has 3 to 32 characters: letters, digits, '.', '_' or '-', starting and "
            "ending with a letter or digit."
        )
    return username


def validate_email(value: str) -> str:
    """A deliberately loose check (one '@', a dotted domain, no spaces or control characters).

    Stored NFC-normalised, otherwise as given: two spellings of one address (a precomposed 'é'
    or 'e' plus a combining accent) are one account, and either logs it in.
    """
    email = unicodedata.normalize("NFC", value.strip())
    local, at, domain = email.rpartition("@")
    if (
        not at
        or not local
        or "." not in domain.strip(".")
        or len(email) > EMAIL_MAX
        or any(c.isspace() or unicodedata.category(c).startswith("C") for c in email)
    ):
        raise BadUserInput("That is not an email address.")
    return email


def validate_display_name(value: str | None, default: str | None = None) -> str:
    """1 to ``DISPLAY_NAME_MAX`` characters of one-line text; empty means ``default``, if any."""
    name = clean_text(value or "", limit=DISPLAY_NAME_MAX, what="display name", multiline=False)
    name = name or default
    if not name:
        raise BadUserInput(f"A display name has 1 to {DISPLAY_NAME_MAX} characters.")
    return name


def identity_hash(key: bytes, territory_id: str, user_id: uuid.UUID) -> bytes:
    """HMAC-SHA256 of (territory, user id): the only handle ``global`` has on a user."""
    message = f"{validate_territory_id(territory_id)}:{user_id}".encode()
    return hmac.new(key, message, hashlib.sha256).digest()


def new_secret() -> str:
    return secrets.token_urlsafe(SECRET_BYTES)


def secret_hash(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


def can_read_account(caller: Caller, territory_id: str, user_id: uuid.UUID) -> bool:
    """Oneself; or a territory manager or moderator of the account's territory, or a global
    admin. Everyone else must not learn even that the account exists."""
    if caller.territory_id == territory_id and caller.user_id == str(user_id):
        return True
    return can_read_accounts(caller.roles, territory_id)
