"""Account rules one at a time: usernames, emails, display names, identity hashes, secrets, and
who reads an account."""

from __future__ import annotations

import hashlib
import hmac
import uuid

import pytest

from domain.accounts import (
    can_read_account,
    identity_hash,
    new_secret,
    secret_hash,
    validate_display_name,
    validate_email,
    validate_username,
)
from domain.callers import Caller
from domain.errors import BadUserInput

USERNAME = (
    "A username has 3 to 32 characters: letters, digits, '.', '_' or '-', starting and "
    "ending with a letter or digit."
)
NOT_EMAIL = "That is not an email address."


def refusal(call: object, *args: object) -> str:
    with pytest.raises(BadUserInput) as refused:
        call(*args)  # type: ignore[operator]
    return refused.value.message


@pytest.mark.parametrize(
    ("given", "stored"),
    [
        ("abc", "abc"),
        ("  Kari.Nord  ", "kari.nord"),
        (" Alice_W ", "alice_w"),
        ("a_b", "a_b"),
        ("a-.b", "a-.b"),
        ("0" * 32, "0" * 32),
    ],
)
def test_usernames_accepted(given: str, stored: str) -> None:
    assert validate_username(given) == stored


@pytest.mark.parametrize(
    "given",
    [
        "ab",
        "a" * 33,
        "_abc",
        "abc_",
        ".abc",
        "-abc",
        "abc-",
        "a b",
        "a b c",
        "a@b.c",
        "kåre",
        "æble",
        "ab\ncd",
        "",
    ],
)
def test_usernames_refused(given: str) -> None:
    assert refusal(validate_username, given) == USERNAME


LOCAL_AT_LIMIT = "k" * (254 - len("@example.org"))


@pytest.mark.parametrize(
    ("given", "stored"),
    [
        ("  kari@example.org ", "kari@example.org"),
        ("Kari@Example.org", "Kari@Example.org"),
        ("a@b@example.org", "a@b@example.org"),
        ("rene\u0301@example.org", "ren\u00e9@example.org"),
        (LOCAL_AT_LIMIT + "@example.org", LOCAL_AT_LIMIT + "@example.org"),
        ("kari@.example.org", "kari@.example.org"),
        ("kari@mail.X", "kari@mail.X"),
    ],
)
def test_emails_accepted(given: str, stored: str) -> None:
    assert validate_email(given) == stored


@pytest.mark.parametrize(
    "given",
    [
        "kari.example.org",
        "@example.org",
        "kari@",
        "kari@localhost",
        "kari@.org.",
        "kari@..",
        "kari@example.org@localhost",  # the domain follows the last '@'
        LOCAL_AT_LIMIT + "k@example.org",  # 255 characters
        "ka ri@example.org",
        "kari@exa\tmple.org",
        "kari\x00@example.org",
        "kari\u200b@example.org",
        "a",
        "a@",
        "@b.c",
        "a@b",
        "a b@c.d",
        "a@.",
        "x" * 250 + "@b.co",  # 255 characters
    ],
)
def test_emails_refused(given: str) -> None:
    assert refusal(validate_email, given) == NOT_EMAIL


def test_email_limit_sample_lengths() -> None:
    assert len(LOCAL_AT_LIMIT + "@example.org") == 254


@pytest.mark.parametrize(
    ("given", "default", "stored"),
    [
        ("  Kari Nord ", None, "Kari Nord"),
        ("", "kari", "kari"),
        (None, "kari", "kari"),
        ("   ", "kari", "kari"),
        ("Ola", "kari", "Ola"),
        ("x" * 128, None, "x" * 128),
    ],
)
def test_display_names_accepted(given: str | None, default: str | None, stored: str) -> None:
    assert validate_display_name(given, default) == stored


@pytest.mark.parametrize(
    ("given", "message"),
    [
        ("", "A display name has 1 to 128 characters."),
        (None, "A display name has 1 to 128 characters."),
        ("x" * 129, "The display name has at most 128 characters."),
        ("Kari\nNord", "The display name contains control characters."),
    ],
)
def test_display_names_refused(given: str | None, message: str) -> None:
    assert refusal(validate_display_name, given) == message


def test_identity_hash_is_hmac_of_territory_and_user() -> None:
    key = b"k" * 32
    user = uuid.UUID("00000000-0000-0000-0000-000000000001")
    expected = hmac.new(key, b"dk:00000000-0000-0000-0000-000000000001", hashlib.sha256).digest()
    assert identity_hash(key, "dk", user) == expected
    assert identity_hash(key, "se", user) != expected
    assert identity_hash(b"other", "dk", user) != expected
    assert refusal(identity_hash, key, "DK", user).startswith("Invalid territory id")


def test_secrets_are_256_random_bits_and_hash_to_sha256() -> None:
    first, second = new_secret(), new_secret()
    assert first != second
    assert len(first) == 43
    assert set(first) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
    assert secret_hash("abc") == bytes.fromhex(
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    )


USER = uuid.UUID("9a1d3c4e-2222-4b3c-8d4e-5f6a7b8c9d0e")


@pytest.mark.parametrize(
    ("caller", "readable"),
    [
        (Caller(user_id=str(USER), territory_id="dk", roles=frozenset({"member:dk"})), True),
        (Caller(user_id=str(uuid.uuid4()), territory_id="dk", roles=frozenset()), False),
        (Caller(user_id=str(USER), territory_id="no", roles=frozenset()), False),
        (Caller(user_id="x", territory_id="no", roles=frozenset({"moderator:dk"})), True),
        (Caller(user_id="x", territory_id="dk", roles=frozenset({"territory_manager:dk"})), True),
        (Caller(user_id="x", territory_id="no", roles=frozenset({"territory_manager:no"})), False),
        (Caller(user_id="x", territory_id="dk", roles=frozenset({"content_creator:dk"})), False),
        (Caller(user_id="x", territory_id="global", roles=frozenset({"global_admin"})), True),
        (Caller(), False),
    ],
)
def test_who_reads_an_account(caller: Caller, readable: bool) -> None:
    assert can_read_account(caller, "dk", USER) is readable
