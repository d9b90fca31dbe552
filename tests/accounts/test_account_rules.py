"""Account rules on their own: usernames, emails, secrets, identity hashes, who reads an account."""

from __future__ import annotations

import uuid

import pytest

from domain.accounts import (
    can_read_account,
    identity_hash,
    new_secret,
    secret_hash,
    validate_email,
    validate_username,
)
from domain.callers import Caller
from domain.errors import BadUserInput


def test_secrets_and_hashes() -> None:
    assert len(new_secret()) >= 43
    assert len(secret_hash("x")) == 32
    key = b"k" * 32
    uid = uuid.uuid4()
    assert identity_hash(key, "dk", uid) == identity_hash(key, "dk", uid)
    assert identity_hash(key, "dk", uid) != identity_hash(key, "no", uid)
    assert identity_hash(key, "dk", uid) != identity_hash(b"other", "dk", uid)
    with pytest.raises(BadUserInput):
        identity_hash(key, "DK", uid)


def test_usernames() -> None:
    assert validate_username(" Alice_W ") == "alice_w"
    for bad in ("ab", "-abc", "abc-", "a b c", "a@b.c", "æble", "x" * 33):
        with pytest.raises(BadUserInput):
            validate_username(bad)


def test_emails() -> None:
    assert validate_email(" a@example.org ") == "a@example.org"
    for bad in ("a", "a@", "@b.c", "a@b", "a b@c.d", "a@.", f"{'x' * 250}@b.co"):
        with pytest.raises(BadUserInput):
            validate_email(bad)


USER = uuid.uuid4()


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
