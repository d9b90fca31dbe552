"""The password policy and argon2id hashing, with no database."""

from __future__ import annotations

import pytest

from domain import passwords
from domain.errors import PasswordPolicyViolation


@pytest.mark.parametrize(
    "password",
    ["short", "aaaaaaaaaaaaaaaa", "password1234", "x" * 257, "my name is alice_w ok", "alice.w@"],
)
def test_password_policy_refuses(password: str) -> None:
    with pytest.raises(PasswordPolicyViolation) as refused:
        passwords.check_policy(password, username="alice_w", email="alice.w@example.org")
    assert password not in refused.value.message


def test_password_policy_accepts_passphrases() -> None:
    for ok in ("correct horse battery", "ÆØÅ æøå 12345", " spaces count too "):
        passwords.check_policy(ok, username="alice", email="alice@example.org")


def test_argon2id_hash_verify_and_rehash() -> None:
    stored = passwords.hash_password("correct horse battery")
    assert stored.startswith("$argon2id$")
    assert passwords.verify_password(stored, "correct horse battery")
    assert not passwords.verify_password(stored, "correct horse batterY")
    assert not passwords.verify_password("not a hash", "x")
    assert not passwords.needs_rehash(stored)
    assert passwords.needs_rehash("not a hash")
