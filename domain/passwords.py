"""Password policy and hashing (argon2id).

Policy (documented in the README, following NIST SP 800-63B rather than composition rules):

* 12 to 256 characters, counted after Unicode NFC normalisation (any characters, spaces too);
* not one repeated character, and not a well-known password from a short deny-list;
* not containing the account's username or the local part of its email.

Hashes are argon2id with argon2-cffi's defaults (RFC 9106 low-memory profile). When those
parameters change, a successful login rehashes the password (``needs_rehash``), so stored hashes
follow the current parameters without a reset. ``HASHERS["minimal"]`` exists for the test suite
only (``PASSWORD_HASHING``, refused outside ``UNITYPLAN_ENV=test``): it creates hundreds of
accounts, and what it tests is who may log in, not how expensive a guess is.
"""

from __future__ import annotations

import unicodedata
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from domain.errors import PasswordPolicyViolation

MIN_LENGTH = 12
MAX_LENGTH = 256

_COMMON = frozenset(
    {
        "password1234",
        "passwordpassword",
        "123456789012",
        "qwertyuiopas",
        "qwerty123456",
        "iloveyou1234",
        "letmein12345",
        "welcome12345",
        "administrator",
        "unityplan123",
        "correcthorsebatterystaple",
    }
)

_hasher = PasswordHasher()
HASHERS = {
    "standard": _hasher,
    "minimal": PasswordHasher(time_cost=1, memory_cost=8, parallelism=1),
}


def normalize(password: str) -> str:
    return unicodedata.normalize("NFC", password)


def check_policy(password: str, *, username: str, email: str) -> None:
    """Raise ``PasswordPolicyViolation`` naming the rule; never echoes the password."""
    value = normalize(password)
    if len(value) < MIN_LENGTH:
        raise PasswordPolicyViolation(f"A password needs at least {MIN_LENGTH} characters.")
    if len(value) > MAX_LENGTH:
        raise PasswordPolicyViolation(f"A password has at most {MAX_LENGTH} characters.")
    lowered = value.casefold()
    if len(set(lowered)) == 1 or lowered in _COMMON:
        raise PasswordPolicyViolation("This password is too easy to guess.")
    local = email.partition("@")[0].casefold()
    for part in (username.casefold(), local):
        if len(part) >= 3 and part in lowered:
            raise PasswordPolicyViolation("A password must not contain the username or email.")


def hash_password(password: str, hasher: PasswordHasher = _hasher) -> str:
    return hasher.hash(normalize(password))


def verify_password(stored_hash: str, password: str, hasher: PasswordHasher = _hasher) -> bool:
    try:
        return hasher.verify(stored_hash, normalize(password))
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(stored_hash: str, hasher: PasswordHasher = _hasher) -> bool:
    try:
        return hasher.check_needs_rehash(stored_hash)
    except InvalidHashError:
        return True


# Verified against when no account matches, so a miss costs as long as a wrong password.
DUMMY_PASSWORD = "unityplan-dummy-password-for-timing"  # noqa: S105 (public by design)
DUMMY_HASH = _hasher.hash(DUMMY_PASSWORD)


def dummy_hash(hasher: PasswordHasher = _hasher) -> str:
    """What a login without a matching account verifies against: a hash at ``hasher``'s cost."""
    return DUMMY_HASH if hasher is _hasher else _dummy_hash_at(hasher)


@cache
def _dummy_hash_at(hasher: PasswordHasher) -> str:
    return hasher.hash(DUMMY_PASSWORD)
