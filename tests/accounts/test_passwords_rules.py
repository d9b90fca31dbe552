"""Password policy rules one at a time, each sample tripping only its own rule, at every limit.

Lengths count characters after NFC; the samples below vary their characters so that a length
sample never trips the "too easy" rule first, and a username sample is long enough.
"""

from __future__ import annotations

import pytest
from argon2 import PasswordHasher

from domain.errors import PasswordPolicyViolation
from domain.passwords import (
    DUMMY_HASH,
    HASHERS,
    check_policy,
    dummy_hash,
    hash_password,
    needs_rehash,
    verify_password,
)

VARIED = "kq7#vz2!mw9pLx4$rt8&" * 13  # 260 characters, 20 distinct
TOO_SHORT = "A password needs at least 12 characters."
TOO_LONG = "A password has at most 256 characters."
GUESSABLE = "This password is too easy to guess."
PERSONAL = "A password must not contain the username or email."
FAST = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)


def refusal(password: str, username: str = "olaf", email: str = "kari@example.org") -> str:
    with pytest.raises(PasswordPolicyViolation) as refused:
        check_policy(password, username=username, email=email)
    assert refused.value.code == "PASSWORD_POLICY"
    return refused.value.message


def accepted(password: str, username: str = "olaf", email: str = "kari@example.org") -> bool:
    return check_policy(password, username=username, email=email) is None


def test_length_limits() -> None:
    assert refusal(VARIED[:11]) == TOO_SHORT
    assert accepted(VARIED[:12])
    assert accepted(VARIED[:256])
    assert refusal(VARIED[:257]) == TOO_LONG


def test_length_counts_composed_characters() -> None:
    decomposed = "ve\u0301rt#kq7!m2"  # 12 code points, 11 once NFC composes the é
    assert len(decomposed) == 12
    assert refusal(decomposed) == TOO_SHORT
    assert accepted(decomposed + "z")


@pytest.mark.parametrize(
    "password",
    [
        "aaaaaaaaaaaa",
        "AaAaAaAaAaAa",
        "password1234",
        "Password1234",
        "QWERTY123456",
        "correcthorsebatterystaple",
        "administrator",
    ],
)
def test_guessable_passwords(password: str) -> None:
    assert refusal(password) == GUESSABLE


@pytest.mark.parametrize("password", ["abababababab", "password12345", "administrators"])
def test_near_guessable_passwords_pass(password: str) -> None:
    assert accepted(password)


@pytest.mark.parametrize(
    ("password", "username", "email"),
    [
        ("my-OLAF-is-long-enough", "olaf", "kari@example.org"),
        ("my-kari-is-long-enough", "olaf", "kari@example.org"),
        ("my-KARI-is-long-enough", "olaf", "Kari@example.org"),
        ("abc-is-long-enough", "abc", "kari@example.org"),
        ("xyz-is-long-enough", "olaf", "xyz@example.org"),
        ("my-kari-is-long-enough", "olaf", "kari@ola@example.org"),  # up to the first '@'
    ],
)
def test_personal_passwords(password: str, username: str, email: str) -> None:
    assert refusal(password, username, email) == PERSONAL


@pytest.mark.parametrize(
    ("password", "username", "email"),
    [
        ("ab-is-long-enough-42", "ab", "kari@example.org"),  # parts under 3 are ignored
        ("xy-is-long-enough-42", "olaf", "xy@example.org"),
        ("my-example-password", "olaf", "kari@example.org"),  # the domain is not personal
    ],
)
def test_short_names_and_domains_are_not_personal(password: str, username: str, email: str) -> None:
    assert accepted(password, username, email)


@pytest.mark.parametrize(
    "password",
    ["short", "aaaaaaaaaaaaaaaa", "password1234", "x" * 257, "my name is alice_w ok", "alice.w@"],
)
def test_refusals_never_repeat_the_password(password: str) -> None:
    message = refusal(password, username="alice_w", email="alice.w@example.org")
    assert password not in message


@pytest.mark.parametrize(
    "password", ["correct horse battery", "ÆØÅ æøå 12345", " spaces count too "]
)
def test_passphrases_accepted(password: str) -> None:
    assert accepted(password, username="alice", email="alice@example.org")


def test_hash_and_verify_with_composition() -> None:
    stored = hash_password("ve\u0301rt#kq7!m2z", FAST)
    assert stored.startswith("$argon2id$")
    assert verify_password(stored, "v\u00e9rt#kq7!m2z", FAST) is True
    assert verify_password(stored, "vert#kq7!m2z", FAST) is False
    assert verify_password(stored, "v\u00e9rt#kq7!m2Z", FAST) is False  # case counts
    assert verify_password("not a hash", "anything", FAST) is False
    assert verify_password(DUMMY_HASH, "unityplan-dummy-password-for-timing") is True
    assert verify_password(DUMMY_HASH, "unityplan-dummy-password-for-timing!") is False


def test_rehash_when_parameters_change() -> None:
    stored = hash_password("ve\u0301rt#kq7!m2z", FAST)
    assert needs_rehash(stored, FAST) is False
    assert needs_rehash(stored) is True
    assert needs_rehash(hash_password("ve\u0301rt#kq7!m2z")) is False
    assert needs_rehash("not a hash", FAST) is True


def test_the_standard_cost_is_argon2_cffis_default_and_minimal_is_minimal() -> None:
    standard = hash_password("ve\u0301rt#kq7!m2z", HASHERS["standard"])
    assert standard.startswith("$argon2id$v=19$m=65536,t=3,p=4$")
    assert needs_rehash(standard) is False
    minimal = hash_password("ve\u0301rt#kq7!m2z", HASHERS["minimal"])
    assert minimal.startswith("$argon2id$v=19$m=8,t=1,p=1$")
    assert needs_rehash(minimal) is True
    assert needs_rehash(minimal, HASHERS["minimal"]) is False


def test_the_dummy_hash_costs_what_a_real_one_does() -> None:
    assert dummy_hash() == DUMMY_HASH
    assert DUMMY_HASH.startswith("$argon2id$v=19$m=65536,t=3,p=4$")
    minimal = dummy_hash(HASHERS["minimal"])
    assert minimal.startswith("$argon2id$v=19$m=8,t=1,p=1$")
    assert dummy_hash(HASHERS["minimal"]) == minimal  # computed once
    assert verify_password(minimal, "unityplan-dummy-password-for-timing") is True
    assert dummy_hash(FAST).startswith("$argon2id$v=19$m=8,t=1,p=1$")
