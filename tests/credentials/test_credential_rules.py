"""The pure rules of Open Badges credentials: the credential JSON, the status list, verification."""

from __future__ import annotations

import base64
import gzip
import hashlib
import json
import re
import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import jsonschema
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from domain.credentials import (
    OB_CONTEXT,
    STATUS_LIST_BITS,
    VC_CONTEXT,
    CheckKind,
    FormatError,
    KeyLookup,
    Outcome,
    PublishedKey,
    StatusEntry,
    StatusLookup,
    Urls,
    bit_at,
    build_credential,
    decode_status_list,
    encode_status_list,
    identity_hash,
    parse,
    sign,
    status_of,
    verify,
)
from tests.credentials.awards import synthetic_facts

SCHEMA = json.loads(
    (Path(__file__).parent / "ob_v3p0_achievementcredential_subset.schema.json").read_text()
)
URLS = Urls("https://api.example.org")
NOW = datetime.now(UTC).replace(microsecond=0)
KEY = Ed25519PrivateKey.generate()
PUBLISHED = PublishedKey("key-1", KEY.public_key(), NOW - timedelta(days=400), None)
KID = URLS.key_id("dk", "key-1")
NOT_REVOKED = StatusLookup(False)
TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")


def credential(**changes: Any) -> dict[str, Any]:
    facts = synthetic_facts("dk", StatusEntry(1, 7), **changes)
    return build_credential(facts, URLS, salt="5a1t")


def signed(**changes: Any) -> str:
    return sign(credential(**changes), KEY, KID, now=NOW)


def outcomes(
    token: str, key: KeyLookup | None = None, status: StatusLookup = NOT_REVOKED
) -> dict[CheckKind, Outcome]:
    found = verify(parse(token), key or KeyLookup(PUBLISHED), status, now=NOW)
    return {c.kind: c.outcome for c in found.checks}


def test_the_credential_meets_the_ob_3_0_schema() -> None:
    validator = jsonschema.Draft201909Validator(SCHEMA, format_checker=jsonschema.FormatChecker())
    errors = [e.message for e in validator.iter_errors(credential())]
    assert errors == []


def test_the_schema_refuses_a_credential_without_its_achievement_criteria() -> None:
    broken = credential()
    del broken["credentialSubject"]["achievement"]["criteria"]
    assert not jsonschema.Draft201909Validator(SCHEMA).is_valid(broken)


def test_the_credential_names_vc_2_0_ob_3_0_the_issuer_and_its_status_bit() -> None:
    found = credential()
    assert found["@context"] == [VC_CONTEXT, OB_CONTEXT]
    assert found["type"] == ["VerifiableCredential", "OpenBadgeCredential"]
    assert found["issuer"]["id"] == "https://api.example.org/credentials/dk/issuer"
    assert found["credentialStatus"] == {
        "id": "https://api.example.org/credentials/dk/status/1#7",
        "type": "BitstringStatusListEntry",
        "statusPurpose": "revocation",
        "statusListIndex": "7",
        "statusListCredential": "https://api.example.org/credentials/dk/status/1",
    }
    for name in ("validFrom", "validUntil", "awardedDate"):
        assert TIMESTAMP.match(found[name]), name


def test_the_recipient_is_named_only_by_a_salted_hash() -> None:
    user = uuid.uuid4()
    found = credential(recipient_user_id=user)
    (identity,) = found["credentialSubject"]["identifier"]
    expected = "sha256$" + hashlib.sha256(f"dk:{user}5a1t".encode()).hexdigest()
    assert identity["identityHash"] == expected == identity_hash(f"dk:{user}", "5a1t")
    assert identity["hashed"] is True
    assert identity["salt"] == "5a1t"
    assert str(user) not in json.dumps(found)


def test_a_renewal_moves_valid_from_and_keeps_awarded_date() -> None:
    first = datetime(2025, 1, 10, 9, 30, tzinfo=UTC)
    renewed = credential(awarded_at=first, valid_from=datetime(2026, 1, 10, tzinfo=UTC))
    assert renewed["awardedDate"] == "2025-01-10T09:30:00Z"
    assert renewed["validFrom"] == "2026-01-10T00:00:00Z"


def test_an_achievement_per_definition_version() -> None:
    definition = uuid.uuid4()
    one = credential(definition_id=definition, version=1)["credentialSubject"]["achievement"]
    two = credential(definition_id=definition, version=2)["credentialSubject"]["achievement"]
    assert one["id"] != two["id"]
    assert two["version"] == "2"


def test_without_valid_until_there_is_no_exp() -> None:
    token = signed(valid_until=None)
    assert "validUntil" not in parse(token).claims
    assert "exp" not in parse(token).claims
    assert set(outcomes(token).values()) == {Outcome.PASSED}


def test_the_jwt_mirrors_the_credential() -> None:
    presented = parse(signed())
    assert presented.header == {"alg": "EdDSA", "kid": KID, "typ": "vc+jwt", "cty": "vc"}
    claims = presented.claims
    assert claims["iss"] == claims["issuer"]["id"]
    assert claims["jti"] == claims["id"]
    assert claims["nbf"] == int(presented.valid_from.timestamp())
    assert claims["exp"] == int(presented.valid_until.timestamp())  # type: ignore[union-attr]


def test_the_status_list_is_16_kb_gzip_base64url_with_the_multibase_prefix() -> None:
    encoded = encode_status_list([0, 9, STATUS_LIST_BITS - 1])
    assert encoded.startswith("u")
    assert "=" not in encoded
    raw = gzip.decompress(base64.urlsafe_b64decode(encoded[1:] + "=" * (-len(encoded[1:]) % 4)))
    assert len(raw) * 8 == STATUS_LIST_BITS == 131_072
    assert raw[0] == 0x80
    assert raw[1] == 0x40
    assert raw[-1] == 0x01
    bits = decode_status_list(encoded)
    assert [i for i in (0, 1, 8, 9, STATUS_LIST_BITS - 1) if bit_at(bits, i)] == [0, 9, 131_071]


def test_a_status_list_that_inflates_too_far_is_refused() -> None:
    bomb = "u" + base64.urlsafe_b64encode(gzip.compress(bytes(8 << 20))).decode().rstrip("=")
    assert status_of(bomb, 0).revoked is None
    assert status_of("zNotBase64url", 0).problem is not None


def test_a_valid_credential_passes_every_check() -> None:
    assert set(outcomes(signed()).values()) == {Outcome.PASSED}


def test_a_tampered_credential_fails_its_signature() -> None:
    head, payload, signature = signed().split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["name"] = "Teamwerk"
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).decode().rstrip("=")
    found = outcomes(f"{head}.{forged}.{signature}")
    assert found[CheckKind.ISSUER_KEY] is Outcome.PASSED
    assert found[CheckKind.SIGNATURE] is Outcome.FAILED
    assert found[CheckKind.VALIDITY_WINDOW] is Outcome.NOT_CHECKED


def test_an_expired_credential_fails_its_validity_window() -> None:
    token = signed(valid_from=NOW - timedelta(days=10), valid_until=NOW - timedelta(seconds=1))
    found = verify(parse(token), KeyLookup(PUBLISHED), NOT_REVOKED, now=NOW)
    assert not found.valid
    assert found.check(CheckKind.VALIDITY_WINDOW).reason == "expired (validUntil)"
    assert found.check(CheckKind.SIGNATURE).outcome is Outcome.PASSED


def test_a_credential_not_valid_yet_fails_its_validity_window() -> None:
    found = verify(
        parse(signed(valid_from=NOW + timedelta(days=1))),
        KeyLookup(PUBLISHED),
        NOT_REVOKED,
        now=NOW,
    )
    assert found.check(CheckKind.VALIDITY_WINDOW).reason == "not valid yet (validFrom)"


def test_a_revoked_credential_fails_its_status() -> None:
    found = verify(parse(signed()), KeyLookup(PUBLISHED), StatusLookup(True), now=NOW)
    assert found.check(CheckKind.STATUS).outcome is Outcome.FAILED
    assert found.check(CheckKind.STATUS).reason == "revoked by the issuer"


def test_a_credential_signed_with_another_key_fails_the_signature_under_the_issuers_kid() -> None:
    token = sign(credential(), Ed25519PrivateKey.generate(), KID, now=NOW)
    assert outcomes(token)[CheckKind.SIGNATURE] is Outcome.FAILED


def test_a_kid_outside_the_issuer_fails_the_issuer_key() -> None:
    token = sign(credential(), Ed25519PrivateKey.generate(), "did:key:z6Mkattacker#0", now=NOW)
    found = verify(parse(token), KeyLookup(PUBLISHED), NOT_REVOKED, now=NOW)
    assert found.check(CheckKind.ISSUER_KEY).reason == "the kid is not a key of the issuer"
    assert found.check(CheckKind.SIGNATURE).outcome is Outcome.NOT_CHECKED


def test_a_key_retired_before_signing_fails_the_issuer_key() -> None:
    retired = replace(PUBLISHED, retired_at=NOW - timedelta(days=1))
    found = verify(parse(signed()), KeyLookup(retired), NOT_REVOKED, now=NOW)
    assert found.check(CheckKind.ISSUER_KEY).reason == "signed after the issuer retired the key"
    old = sign(credential(), KEY, KID, now=NOW - timedelta(days=2))
    assert verify(parse(old), KeyLookup(retired), NOT_REVOKED, now=NOW).valid


@pytest.mark.parametrize(
    "text",
    ["", "not.a.jwt", "a" * 70_000, "eyJhbGciOiJIUzI1NiJ9.eyJ9.c2ln"],
)
def test_what_is_not_a_credential_fails_its_format(text: str) -> None:
    with pytest.raises(FormatError):
        parse(text)


def test_a_jwt_of_another_algorithm_or_shape_fails_its_format() -> None:
    hs = jwt.encode({"iss": "x"}, "secret-key-of-thirty-two-bytes!!", algorithm="HS256")
    with pytest.raises(FormatError, match="EdDSA"):
        parse(hs)
    plain = jwt.encode({"iss": "x"}, KEY, algorithm="EdDSA", headers={"kid": KID})
    with pytest.raises(FormatError, match="@context"):
        parse(plain)


def test_urls_recognise_only_this_apis_issuers_and_lists() -> None:
    assert URLS.territory_of_issuer("https://api.example.org/credentials/c_dk_aarhus/issuer") == (
        "c_dk_aarhus"
    )
    assert URLS.territory_of_issuer("https://evil.example/credentials/dk/issuer") is None
    assert URLS.territory_of_issuer("https://api.example.org/credentials/Nope/issuer") is None
    assert URLS.status_list_of("https://api.example.org/credentials/se/status/3") == ("se", 3)
    assert URLS.status_list_of("https://api.example.org/credentials/se/status/0") is None


def forged(**claims: Any) -> str:
    """A token signed by the issuer's key over ``claims`` changed from a good credential's."""
    good = parse(signed()).claims
    return jwt.encode({**good, **claims}, KEY, algorithm="EdDSA", headers={"kid": KID})


@pytest.mark.parametrize(
    ("claims", "message"),
    [
        ({"iat": 10**30}, "iat"),
        ({"iat": True}, "iat"),
        (
            {
                "credentialStatus": {
                    "type": "BitstringStatusListEntry",
                    "statusPurpose": "revocation",
                    "statusListCredential": "https://x",
                    "statusListIndex": "9" * 5000,
                }
            },
            "credentialStatus",
        ),
        ({"validFrom": "yesterday"}, "validFrom"),
        ({"issuer": {"id": "https://elsewhere"}}, "issuer"),
    ],
)
def test_out_of_range_claims_fail_their_format(claims: dict[str, Any], message: str) -> None:
    with pytest.raises(FormatError, match=message):
        parse(forged(**claims))


def test_a_deeply_nested_payload_fails_its_format() -> None:
    payload = base64.urlsafe_b64encode(b"[" * 40_000 + b"]" * 40_000).decode().rstrip("=")
    head = signed().split(".")[0]
    with pytest.raises(FormatError):
        parse(f"{head}.{payload[:60_000]}.c2ln")
