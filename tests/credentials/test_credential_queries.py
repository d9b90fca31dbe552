"""Credentials through the public surface: ``verifyCredential`` over GraphQL, and the issuer and
status list endpoints, in territories on both database servers."""

from __future__ import annotations

import base64
import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from db import credentials as credential_db
from db.engines import Database
from domain.credentials import (
    STATUS_LIST_BITS,
    Urls,
    bit_at,
    build_credential,
    decode_status_list,
    sign,
)
from tests.authkit import codes, server_of
from tests.conftest import StatementCounter, gql
from tests.credentials.awards import issue, revoke, synthetic_facts
from unityplan.settings import Settings

VERIFY = """
query ($credential: String!) {
  verifyCredential(input: {credential: $credential}) {
    valid credentialId issuer
    checks { kind outcome reason }
  }
}
"""

TERRITORIES = ["dk", "se"]  # main server, second server


async def verified(client: httpx.AsyncClient, token: str) -> dict[str, Any]:
    body = await gql(client, VERIFY, {"credential": token})
    assert "errors" not in body, body
    result: dict[str, Any] = body["data"]["verifyCredential"]
    return result


def failed(result: dict[str, Any]) -> dict[str, str]:
    """The failed checks by kind, with their reasons."""
    return {c["kind"]: c["reason"] for c in result["checks"] if c["outcome"] == "FAILED"}


def issuer_public_key(profile: dict[str, Any], kid: str) -> Ed25519PublicKey:
    (method,) = [m for m in profile["verificationMethod"] if m["id"] == kid]
    x = method["publicKeyJwk"]["x"]
    return Ed25519PublicKey.from_public_bytes(base64.urlsafe_b64decode(x + "=" * (-len(x) % 4)))


@pytest.mark.parametrize("territory", TERRITORIES)
async def test_an_issued_credential_verifies(
    client: httpx.AsyncClient, db: Database, settings: Settings, territory: str
) -> None:
    facts, token = await issue(db, territory, settings.public_url)
    result = await verified(client, token)
    assert result["valid"] is True
    assert [(c["kind"], c["outcome"]) for c in result["checks"]] == [
        ("FORMAT", "PASSED"),
        ("ISSUER_KEY", "PASSED"),
        ("SIGNATURE", "PASSED"),
        ("VALIDITY_WINDOW", "PASSED"),
        ("STATUS", "PASSED"),
    ]
    assert result["credentialId"] == f"urn:uuid:{facts.award_id}"
    assert result["issuer"] == f"{settings.public_url}/credentials/{territory}/issuer"


async def test_a_tampered_credential_fails_its_signature(
    client: httpx.AsyncClient, db: Database, settings: Settings
) -> None:
    _, token = await issue(db, "dk", settings.public_url)
    head, payload, signature = token.split(".")
    raw = base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))
    changed = raw.replace(b'"Teamwork"', b'"Teamwerk"', 1)  # one byte of the payload
    assert changed != raw
    forged = base64.urlsafe_b64encode(changed).decode().rstrip("=")
    result = await verified(client, f"{head}.{forged}.{signature}")
    assert result["valid"] is False
    assert failed(result) == {"SIGNATURE": "the signature does not match the content"}


async def test_an_expired_credential_fails_its_validity_window(
    client: httpx.AsyncClient, db: Database, settings: Settings
) -> None:
    past = datetime.now(UTC) - timedelta(days=1)
    _, token = await issue(
        db, "se", settings.public_url, valid_from=past - timedelta(days=30), valid_until=past
    )
    result = await verified(client, token)
    assert failed(result) == {"VALIDITY_WINDOW": "expired (validUntil)"}


@pytest.mark.parametrize("territory", TERRITORIES)
async def test_a_revoked_credential_fails_its_status_and_the_list_shows_its_bit(
    client: httpx.AsyncClient, db: Database, settings: Settings, territory: str
) -> None:
    facts, token = await issue(db, territory, settings.public_url)
    assert (await verified(client, token))["valid"] is True
    await revoke(db, territory, facts.award_id)
    result = await verified(client, token)
    assert failed(result) == {"STATUS": "revoked by the issuer"}

    response = await client.get(f"/credentials/{territory}/status/{facts.status.list_no}")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/vc+jwt"
    assert response.headers["cache-control"] == "public, max-age=60"
    profile = (await client.get(f"/credentials/{territory}/issuer")).json()
    kid = jwt.get_unverified_header(response.text)["kid"]
    claims = jwt.decode(
        response.text,
        issuer_public_key(profile, kid),
        algorithms=["EdDSA"],
        options={"verify_exp": False},
    )
    assert claims["type"] == ["VerifiableCredential", "BitstringStatusListCredential"]
    assert (
        claims["id"]
        == json.loads(base64.urlsafe_b64decode(token.split(".")[1] + "=="))["credentialStatus"][
            "statusListCredential"
        ]
    )
    subject = claims["credentialSubject"]
    assert subject["statusPurpose"] == "revocation"
    bits = decode_status_list(subject["encodedList"])
    assert len(bits) * 8 == STATUS_LIST_BITS
    assert bit_at(bits, facts.status.index) is True


async def test_a_credential_signed_with_another_key_fails(
    client: httpx.AsyncClient, db: Database, settings: Settings
) -> None:
    facts, token = await issue(db, "dk", settings.public_url)
    own_kid = jwt.get_unverified_header(token)["kid"]
    credential = build_credential(facts, Urls(settings.public_url), salt="00")
    other = Ed25519PrivateKey.generate()
    now = datetime.now(UTC)

    # Under the issuer's own kid: the signature does not verify with the published key.
    under_own_kid = await verified(client, sign(credential, other, own_kid, now=now))
    assert failed(under_own_kid) == {"SIGNATURE": "the signature does not match the content"}
    # Under a kid the issuer never published: no such key.
    unknown_kid = f"{settings.public_url}/credentials/dk/issuer#key-999"
    result = await verified(client, sign(credential, other, unknown_kid, now=now))
    assert failed(result) == {"ISSUER_KEY": "the issuer publishes no such key"}


async def test_a_foreign_issuer_is_unknown(client: httpx.AsyncClient, settings: Settings) -> None:
    status = credential_db.StatusEntry(1, 0)
    foreign = Urls("https://badges.elsewhere.example")
    credential = build_credential(synthetic_facts("dk", status), foreign, salt="00")
    key_id = foreign.key_id("dk", "key-1")
    token = sign(credential, Ed25519PrivateKey.generate(), key_id, now=datetime.now(UTC))
    result = await verified(client, token)
    assert failed(result) == {"ISSUER_KEY": "unknown issuer"}
    assert result["issuer"] == "https://badges.elsewhere.example/credentials/dk/issuer"


async def test_an_unknown_territory_under_our_url_is_an_unknown_issuer(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    urls = Urls(settings.public_url)
    credential = build_credential(
        synthetic_facts("fi", credential_db.StatusEntry(1, 0)), urls, salt="00"
    )
    token = sign(
        credential, Ed25519PrivateKey.generate(), urls.key_id("fi", "key-1"), now=datetime.now(UTC)
    )
    assert failed(await verified(client, token)) == {"ISSUER_KEY": "unknown issuer"}


@pytest.mark.parametrize("text", ["", "hello", "a.b.c"])
async def test_what_is_not_a_credential_fails_its_format(
    client: httpx.AsyncClient, text: str
) -> None:
    result = await verified(client, text)
    assert result["valid"] is False
    assert list(failed(result)) == ["FORMAT"]
    assert {c["outcome"] for c in result["checks"][1:]} == {"NOT_CHECKED"}


async def test_a_credential_over_the_length_limit_is_bad_input(client: httpx.AsyncClient) -> None:
    body = await gql(client, VERIFY, {"credential": "a" * 65_537})
    assert codes(body) == ["BAD_USER_INPUT"]
    assert body["errors"][0]["extensions"]["field"] == "credential"


@pytest.mark.parametrize("territory", TERRITORIES)
async def test_the_issuer_profile_publishes_the_key_that_verifies(
    client: httpx.AsyncClient, db: Database, settings: Settings, territory: str
) -> None:
    _, token = await issue(db, territory, settings.public_url)
    response = await client.get(f"/credentials/{territory}/issuer")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/ld+json")
    profile = response.json()
    issuer = f"{settings.public_url}/credentials/{territory}/issuer"
    assert profile["id"] == issuer
    assert profile["type"] == ["Profile"]
    assert profile["name"] == {"dk": "Denmark", "se": "Sweden"}[territory]
    kid = jwt.get_unverified_header(token)["kid"]
    assert kid.startswith(issuer + "#key-")
    assert kid in profile["assertionMethod"]
    (method,) = [m for m in profile["verificationMethod"] if m["id"] == kid]
    assert method["type"] == "JsonWebKey"
    assert method["controller"] == issuer
    assert set(method["publicKeyJwk"]) == {"kty", "crv", "x"}  # no private part
    jwt.decode(
        token,
        issuer_public_key(profile, kid),
        algorithms=["EdDSA"],
        options={"verify_exp": False, "verify_nbf": False},
    )


@pytest.mark.parametrize(
    "path",
    [
        "/credentials/fi/issuer",  # no such territory
        "/credentials/Not_A_Territory/issuer",
        "/credentials/fi/status/1",
        "/credentials/dk/status/0",
        "/credentials/dk/status/99999",  # past the last list
    ],
)
async def test_unknown_territories_and_lists_are_not_found(
    client: httpx.AsyncClient, path: str
) -> None:
    response = await client.get(path)
    assert response.status_code == 404
    assert response.json()["errors"][0]["extensions"]["code"] == "NOT_FOUND"


async def test_a_rotated_key_still_verifies_what_it_signed(
    client: httpx.AsyncClient, db: Database, settings: Settings
) -> None:
    territory = "no"
    _, before = await issue(db, territory, settings.public_url)
    async with db.transaction(server_of(territory), territory) as conn:
        await credential_db.retire_key(conn)
    _, after = await issue(db, territory, settings.public_url)
    old_kid, new_kid = (jwt.get_unverified_header(t)["kid"] for t in (before, after))
    assert old_kid != new_kid
    assert (await verified(client, before))["valid"] is True
    assert (await verified(client, after))["valid"] is True
    profile = (await client.get(f"/credentials/{territory}/issuer")).json()
    assert {old_kid, new_kid} <= set(profile["assertionMethod"])


async def test_status_bits_are_allocated_once_per_award_and_in_order(db: Database) -> None:
    first, second = uuid.uuid4(), uuid.uuid4()
    async with db.transaction(server_of("dk"), "dk") as conn:
        a = await credential_db.allocate_status_index(conn, first)
        again = await credential_db.allocate_status_index(conn, first)
        b = await credential_db.allocate_status_index(conn, second)
        assert await credential_db.set_revoked(conn, second, True) == b
        assert await credential_db.set_revoked(conn, uuid.uuid4(), True) is None
        assert (await credential_db.revoked_in(conn, [b.list_no]))[b.list_no][-1] == b.index
        await credential_db.set_revoked(conn, second, False)
        assert b.index not in (await credential_db.revoked_in(conn, [b.list_no])).get(b.list_no, [])
    assert again == a
    assert (b.list_no, b.index) == (a.list_no, a.index + 1)


async def test_verifying_many_credentials_reads_a_fixed_number_of_statements(
    client: httpx.AsyncClient, db: Database, settings: Settings, statements: StatementCounter
) -> None:
    tokens = [(await issue(db, "dk", settings.public_url))[1] for _ in range(5)]

    async def count(batch: list[str]) -> int:
        fields = " ".join(
            f'v{i}: verifyCredential(input: {{credential: "{t}"}}) {{ valid }}'
            for i, t in enumerate(batch)
        )
        before = statements.count
        body = await gql(client, "{ " + fields + " }")
        assert all(v["valid"] for v in body["data"].values()), body
        return statements.count - before

    assert await count(tokens[:1]) == await count(tokens)
