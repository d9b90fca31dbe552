"""The identity and access rules on their own: passwords, invitations, roles, tokens, hashes."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from domain import passwords
from domain.accounts import (
    identity_hash,
    new_secret,
    secret_hash,
    validate_email,
    validate_username,
)
from domain.errors import (
    BadUserInput,
    InvitationEmailMismatch,
    InvitationExhausted,
    InvitationExpired,
    InvitationNotFound,
    InvitationRevoked,
    PasswordPolicyViolation,
    Unauthenticated,
)
from domain.invitations import InvitationState, check_usable, new_token, territory_of
from domain.roles import Grant, Role, can_assign, can_manage_territory, can_read_accounts
from domain.tokens import KeySet, generate_key

NOW = datetime(2026, 11, 27, 12, tzinfo=UTC)


def state(**kw: object) -> InvitationState:
    values: dict[str, object] = {
        "email": None,
        "max_uses": 1,
        "use_count": 0,
        "expires_at": NOW + timedelta(days=1),
        "revoked_at": None,
    }
    values.update(kw)
    return InvitationState(**values)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("kw", "email", "error"),
    [
        ({"revoked_at": NOW}, None, InvitationRevoked),
        ({"revoked_at": NOW, "expires_at": NOW}, None, InvitationRevoked),
        ({"expires_at": NOW}, None, InvitationExpired),
        ({"use_count": 1}, None, InvitationExhausted),
        ({"max_uses": 3, "use_count": 3}, None, InvitationExhausted),
        ({"email": "a@example.org"}, "b@example.org", InvitationEmailMismatch),
    ],
)
def test_unusable_invitations(kw: dict[str, object], email: str | None, error: type) -> None:
    with pytest.raises(error):
        check_usable(state(**kw), now=NOW, email=email)


def test_usable_invitations() -> None:
    check_usable(state(), now=NOW, email="x@example.org")
    check_usable(state(max_uses=3, use_count=2), now=NOW, email=None)
    check_usable(state(email="A@Example.org"), now=NOW, email="a@example.ORG")
    check_usable(state(email="a@example.org"), now=NOW, email=None)  # validateInvitation


def test_invitation_tokens_route_and_are_random() -> None:
    token = new_token("c_dk_aarhus")
    assert territory_of(token) == "c_dk_aarhus"
    secret = token.partition(".")[2]
    assert len(secret) >= 43  # 32 bytes of base64url: 256 bits
    assert new_token("dk") != new_token("dk")
    for bad in ("", "dk", "dk.", ".abc", "DK.abc", "x" * 200, "../etc.abc", "is;drop.x"):
        with pytest.raises(InvitationNotFound):
            territory_of(bad)


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


def test_usernames_and_emails() -> None:
    assert validate_username(" Alice_W ") == "alice_w"
    for bad in ("ab", "-abc", "abc-", "a b c", "a@b.c", "æble", "x" * 33):
        with pytest.raises(BadUserInput):
            validate_username(bad)
    assert validate_email(" a@example.org ") == "a@example.org"
    for bad in ("a", "a@", "@b.c", "a@b", "a b@c.d", "a@.", f"{'x' * 250}@b.co"):
        with pytest.raises(BadUserInput):
            validate_email(bad)


def test_role_model() -> None:
    admin = ["global_admin"]
    manager = ["member:dk", "territory_manager:dk"]
    moderator = ["member:dk", "moderator:dk"]
    member = ["member:dk"]
    assert can_manage_territory(admin, "no")
    assert can_manage_territory(manager, "dk")
    assert not can_manage_territory(manager, "no")
    assert not can_manage_territory(moderator, "dk")
    assert can_read_accounts(moderator, "dk")
    assert not can_read_accounts(member, "dk")
    assert can_assign(manager, Grant(Role.MODERATOR, "dk"))
    assert not can_assign(manager, Grant(Role.MODERATOR, "no"))
    assert not can_assign(manager, Grant(Role.TERRITORY_MANAGER, "dk"))
    assert not can_assign(manager, Grant(Role.GLOBAL_ADMIN, None))
    assert can_assign(admin, Grant(Role.TERRITORY_MANAGER, "no"))
    assert not can_assign(member, Grant(Role.MEMBER, "dk"))
    assert Grant.parse("territory_manager:c_dk_aarhus") == Grant(
        Role.TERRITORY_MANAGER, "c_dk_aarhus"
    )
    assert Grant.parse("global_admin").encode() == "global_admin"
    for bad in ("emperor:dk", "member", "global_admin:dk", "member:DK"):
        with pytest.raises(BadUserInput):
            Grant.parse(bad)


def test_token_roundtrip_and_refusals() -> None:
    keys = KeySet([generate_key("k1")], active_kid="k1", issuer="i", audience="a")
    uid, sid = uuid.uuid4(), uuid.uuid4()
    token, expires = keys.issue(
        user_id=uid,
        territory_id="dk",
        roles=["member:dk"],
        session_id=sid,
        ttl=timedelta(minutes=5),
    )
    claims = keys.verify(token)
    assert (claims.user_id, claims.territory_id, claims.session_id) == (uid, "dk", sid)
    assert claims.roles == ("member:dk",)
    assert claims.expires_at == expires
    caller = claims.caller()
    assert caller.is_authenticated
    assert caller.territory_id == "dk"
    # Rotation: a new active key; tokens of the old one still verify while it is listed.
    rotated = KeySet(
        [keys._keys["k1"], generate_key("k2")],
        active_kid="k2",
        issuer="i",
        audience="a",
    )
    assert rotated.verify(token).user_id == uid
    other_audience = KeySet([keys._keys["k1"]], active_kid="k1", issuer="i", audience="b")
    with pytest.raises(Unauthenticated):
        other_audience.verify(token)
    assert "PRIVATE" not in repr(keys)
    assert "PRIVATE" not in repr(keys._keys["k1"])
