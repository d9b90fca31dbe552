"""Access token rules one at a time, on a clock the test sets (no sleeps).

The clock seam is ``datetime`` in PyJWT's claim check and in domain/tokens.py; every instant is a
literal, and expiry is tried exactly at ``exp`` (refused) and one second before (accepted).
"""

from __future__ import annotations

import base64
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
import jwt.api_jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ec import SECP256R1, generate_private_key
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from domain import tokens
from domain.callers import Caller
from domain.errors import Unauthenticated
from domain.tokens import KeySet, SigningKey, generate_key, load_private_key, private_pem

NOW = datetime(2026, 11, 27, 12, tzinfo=UTC)
NOW_TS = 1795780800  # NOW as a Unix time
USER = uuid.UUID("5f0c6b2e-8f43-4a7c-9d8e-0a1b2c3d4e5f")
SESSION = uuid.UUID("0b7e4a3c-1111-4222-8333-944455566677")
# RFC 8032 test vector 1 and its JWK (RFC 8037 appendix A).
RFC_SEED = bytes.fromhex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60")
RFC_X = "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"
INVALID = "Invalid access token."


class Clock:
    """What "now" is for PyJWT's claim checks and for ``issue`` without ``now``."""

    def __init__(self, instant: datetime) -> None:
        self.instant = instant
        clock = self

        class Frozen(datetime):
            @classmethod
            def now(cls, tz: Any = None) -> Frozen:
                # As datetime.now: naive local time unless asked for a zone.
                local = clock.instant.astimezone(tz)
                return local if tz is not None else local.replace(tzinfo=None)  # type: ignore[return-value]

        self.datetime = Frozen


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    frozen = Clock(NOW)
    monkeypatch.setattr(jwt.api_jwt, "datetime", frozen.datetime)
    monkeypatch.setattr(tokens, "datetime", frozen.datetime)
    return frozen


def rfc_key(kid: str = "k1") -> SigningKey:
    return SigningKey(kid, Ed25519PrivateKey.from_private_bytes(RFC_SEED))


def keyset(*keys: SigningKey, active: str = "k1") -> KeySet:
    return KeySet(list(keys) or [rfc_key()], active_kid=active, issuer="iss-1", audience="aud-1")


def issue(keys: KeySet, **changes: Any) -> str:
    arguments: dict[str, Any] = {
        "user_id": USER,
        "territory_id": "dk",
        "roles": ["member:dk", "global_admin"],
        "session_id": SESSION,
        "ttl": timedelta(minutes=15),
        "now": NOW,
    }
    arguments.update(changes)
    token, _ = keys.issue(**arguments)
    return token


def claims(**changes: Any) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "sub": str(USER),
        "territory": "dk",
        "roles": ["member:dk"],
        "sid": str(SESSION),
        "iat": NOW_TS,
        "exp": NOW_TS + 900,
        "jti": "j" * 32,
        "iss": "iss-1",
        "aud": "aud-1",
    }
    payload.update(changes)
    return {k: v for k, v in payload.items() if v is not None}


def signed(payload: dict[str, Any], kid: str = "k1", key: Any = None) -> str:
    private = key if key is not None else rfc_key().private_key
    return jwt.encode(payload, private, algorithm="EdDSA", headers={"kid": kid})


def refusal(keys: KeySet, token: str) -> str:
    with pytest.raises(Unauthenticated) as refused:
        keys.verify(token)
    assert refused.value.code == "UNAUTHENTICATED"
    return refused.value.message


def test_issued_claims_are_exactly_these(clock: Clock) -> None:
    keys = keyset()
    token, expires = keys.issue(
        user_id=USER,
        territory_id="dk",
        roles=["member:dk", "global_admin"],
        session_id=SESSION,
        ttl=timedelta(minutes=15),
        now=NOW + timedelta(microseconds=999_999),
    )
    assert expires == datetime(2026, 11, 27, 12, 15, tzinfo=UTC)
    header = jwt.get_unverified_header(token)
    assert header == {"alg": "EdDSA", "kid": "k1", "typ": "JWT"}
    payload = jwt.decode(token, options={"verify_signature": False})
    jti = payload.pop("jti")
    assert len(jti) == 32
    assert set(jti) <= set("0123456789abcdef")
    assert payload == {
        "sub": "5f0c6b2e-8f43-4a7c-9d8e-0a1b2c3d4e5f",
        "territory": "dk",
        "roles": ["global_admin", "member:dk"],
        "sid": "0b7e4a3c-1111-4222-8333-944455566677",
        "iat": 1795780800,
        "exp": 1795781700,
        "iss": "iss-1",
        "aud": "aud-1",
    }
    assert issue(keys) != issue(keys)  # a fresh jti each time


def test_issue_reads_the_clock_when_not_given_a_time(clock: Clock) -> None:
    clock.instant = datetime(2026, 11, 27, 13, 0, 0, 500_000, tzinfo=UTC)
    keys = keyset()
    token, expires = keys.issue(
        user_id=USER, territory_id="dk", roles=[], session_id=SESSION, ttl=timedelta(seconds=60)
    )
    assert expires == datetime(2026, 11, 27, 13, 1, tzinfo=UTC)
    assert jwt.decode(token, options={"verify_signature": False})["iat"] == 1795784400


def test_verified_claims_and_their_caller(clock: Clock) -> None:
    keys = keyset()
    found = keys.verify(issue(keys))
    assert found.user_id == USER
    assert found.territory_id == "dk"
    assert found.roles == ("global_admin", "member:dk")
    assert found.session_id == SESSION
    assert found.issued_at == datetime(2026, 11, 27, 12, tzinfo=UTC)
    assert found.expires_at == datetime(2026, 11, 27, 12, 15, tzinfo=UTC)
    assert len(found.token_id) == 32
    assert found.caller().is_authenticated
    assert found.caller() == Caller(
        user_id="5f0c6b2e-8f43-4a7c-9d8e-0a1b2c3d4e5f",
        territory_id="dk",
        roles=frozenset({"global_admin", "member:dk"}),
        session_id="0b7e4a3c-1111-4222-8333-944455566677",
        expires_at=datetime(2026, 11, 27, 12, 15, tzinfo=UTC),
    )


def test_expiry_instants(clock: Clock) -> None:
    keys = keyset()
    token = issue(keys)
    clock.instant = datetime(2026, 11, 27, 12, 14, 59, tzinfo=UTC)
    assert keys.verify(token).territory_id == "dk"
    clock.instant = datetime(2026, 11, 27, 12, 15, tzinfo=UTC)
    assert refusal(keys, token) == "The access token has expired; refresh the session."
    clock.instant = datetime(2026, 11, 27, 11, 59, 59, tzinfo=UTC)
    assert refusal(keys, token) == INVALID  # issued in the future


def token_of_length(keys: KeySet, length: int) -> str:
    """A valid token exactly ``length`` characters long, padded through one long role."""
    for n in range(5600, 6400):
        token = issue(keys, roles=["x" * n])
        if len(token) == length:
            return token
    raise AssertionError(f"no padding gives a {length}-character token")


def test_length_limit(clock: Clock) -> None:
    keys = keyset(rfc_key("k123"), active="k123")
    at_limit = token_of_length(keys, 8192)
    assert len(keys.verify(at_limit).roles[0]) > 5000
    assert refusal(keys, token_of_length(keys, 8193)) == INVALID


def test_algorithm_and_key_refusals(clock: Clock) -> None:
    keys = keyset()
    hs256 = jwt.encode(claims(), "a shared secret of 32 bytes.....", "HS256", headers={"kid": "k1"})
    unsigned = jwt.encode(claims(), None, algorithm="none", headers={"kid": "k1"})
    assert refusal(keys, hs256) == "Invalid access token: unsupported algorithm."
    assert refusal(keys, unsigned) == "Invalid access token: unsupported algorithm."
    assert refusal(keys, signed(claims(), kid="k2")) == "Invalid access token: unknown signing key."
    other = Ed25519PrivateKey.generate()
    assert refusal(keys, signed(claims(), key=other)) == INVALID
    assert refusal(keys, "not.a.token") == INVALID
    assert refusal(keys, "") == INVALID
    assert keys.verify(signed(claims())).roles == ("member:dk",)


def test_a_token_without_kid_names_no_key(clock: Clock) -> None:
    """A token without a kid once matched a key named "None" (``str(None)``)."""
    keys = keyset(rfc_key("None"), active="None")
    no_kid = jwt.encode(claims(), rfc_key().private_key, algorithm="EdDSA")
    assert refusal(keys, no_kid) == "Invalid access token: unknown signing key."
    assert keys.verify(signed(claims(), kid="None")).territory_id == "dk"


def test_a_rotated_key_still_verifies(clock: Clock) -> None:
    old, new = generate_key("old"), generate_key("new")
    keys = keyset(old, new, active="new")
    assert jwt.get_unverified_header(issue(keys))["kid"] == "new"
    assert keys.verify(signed(claims(), kid="old", key=old.private_key)).territory_id == "dk"


@pytest.mark.parametrize(
    "changes",
    [
        {"sub": None},
        {"territory": None},
        {"roles": None},
        {"sid": None},
        {"iat": None},
        {"exp": None},
        {"jti": None},
        {"iss": "someone-else"},
        {"aud": "someone-else"},
        {"iss": None},
        {"aud": None},
        {"sub": "not-a-uuid"},
        {"sid": "not-a-uuid"},
        {"territory": "DK"},
        {"territory": 7},
        {"roles": "member:dk"},
        {"roles": ["member:dk", 7]},
    ],
)
def test_each_claim_rule(clock: Clock, changes: dict[str, Any]) -> None:
    assert refusal(keyset(), signed(claims(**changes))) == INVALID


def test_signing_keys_never_print_their_material() -> None:
    key = rfc_key("k1")
    assert repr(key) == "SigningKey(kid='k1')"
    keys = keyset(rfc_key("b"), rfc_key("a"), active="b")
    assert repr(keys) == "KeySet(kids=['a', 'b'], active='b')"


def test_public_keys_as_jwks() -> None:
    expected = {
        "kty": "OKP",
        "crv": "Ed25519",
        "x": RFC_X,
        "kid": "k1",
        "alg": "EdDSA",
        "use": "sig",
    }
    assert rfc_key().jwk() == expected
    assert keyset().jwks() == {"keys": [expected]}
    padded = base64.urlsafe_b64decode(RFC_X + "=")
    assert len(padded) == 32


def test_the_active_kid_must_be_configured() -> None:
    with pytest.raises(ValueError, match=r"^JWT_ACTIVE_KID names no configured key$"):
        keyset(rfc_key("k1"), active="k2")
    assert keyset(rfc_key("k1"), active="k1").issuer == "iss-1"
    assert keyset(rfc_key("k1"), active="k1").audience == "aud-1"


def test_pem_round_trip_and_wrong_key_type() -> None:
    pem = private_pem(rfc_key())
    assert pem.startswith("-----BEGIN PRIVATE KEY-----\n")
    loaded = load_private_key("k9", pem)
    assert (loaded.kid, loaded.jwk()["x"]) == ("k9", RFC_X)
    ec_pem = (
        generate_private_key(SECP256R1())
        .private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        .decode()
    )
    with pytest.raises(ValueError, match=r"^JWT key 'k9' is not an Ed25519 private key$"):
        load_private_key("k9", ec_pem)


def test_generated_keys_differ() -> None:
    first, second = generate_key("a"), generate_key("a")
    assert first.kid == "a"
    assert first.jwk()["x"] != second.jwk()["x"]
