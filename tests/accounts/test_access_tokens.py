"""Access tokens that must be refused, and a valid token that must not reach another territory."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives import serialization

from db.engines import Database
from domain.tokens import KeySet, generate_key, private_pem
from graph.ids import encode
from graph.server.app import create_app
from tests.authkit import LOGOUT, ME, account, call, codes
from unityplan.devservices import free_port
from unityplan.settings import Settings

PUBLIC_QUERY = "{ territories { nodes { code } } }"


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def unsigned(header: dict[str, Any], payload: dict[str, Any], signature: bytes = b"") -> str:
    head = b64(json.dumps(header).encode())
    body = b64(json.dumps(payload).encode())
    return f"{head}.{body}.{b64(signature)}"


def claims_of(token: str) -> dict[str, Any]:
    decoded: dict[str, Any] = jwt.decode(token, options={"verify_signature": False})
    return decoded


@pytest.fixture(scope="module")
async def member(auth_client: httpx.AsyncClient, db: Database) -> dict[str, Any]:
    return await account(auth_client, db, "dk")


def keys_of(auth_app: Any) -> KeySet:
    keys: KeySet = auth_app.state.auth.config.keys
    return keys


async def test_the_valid_token_works(
    auth_client: httpx.AsyncClient, member: dict[str, Any]
) -> None:
    body = await call(auth_client, ME, token=member["accessToken"])
    assert "errors" not in body, body
    claims = claims_of(member["accessToken"])
    assert set(claims) >= {"sub", "territory", "roles", "iat", "exp", "jti", "sid"}
    assert claims["territory"] == "dk"
    assert jwt.get_unverified_header(member["accessToken"])["alg"] == "EdDSA"


async def test_jwks_publishes_the_verifying_key(
    auth_client: httpx.AsyncClient, member: dict[str, Any]
) -> None:
    response = await auth_client.get("/.well-known/jwks.json")
    assert response.status_code == 200
    jwks = response.json()
    kid = jwt.get_unverified_header(member["accessToken"])["kid"]
    (jwk,) = [k for k in jwks["keys"] if k["kid"] == kid]
    assert set(jwk) == {"kty", "crv", "x", "kid", "alg", "use"}  # no private "d"
    key = jwt.PyJWK(jwk).key
    claims = jwt.decode(member["accessToken"], key, algorithms=["EdDSA"], audience="unityplan")
    assert claims["territory"] == "dk"


def forged_tokens(auth_app: Any, valid: str) -> dict[str, str]:
    claims = claims_of(valid)
    header = jwt.get_unverified_header(valid)
    keys = keys_of(auth_app)
    public_pem = keys._keys[header["kid"]].public_key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    hs_header = {"alg": "HS256", "typ": "JWT", "kid": header["kid"]}
    signing_input = f"{b64(json.dumps(hs_header).encode())}.{b64(json.dumps(claims).encode())}"
    hs_signature = hmac.new(public_pem, signing_input.encode(), hashlib.sha256).digest()

    expired, _ = keys.issue(
        user_id=uuid.UUID(claims["sub"]),
        territory_id="dk",
        roles=claims["roles"],
        session_id=uuid.UUID(claims["sid"]),
        ttl=timedelta(minutes=5),
        now=datetime.now(UTC) - timedelta(hours=1),
    )
    stranger = KeySet(
        [generate_key(header["kid"])],
        active_kid=header["kid"],
        issuer=keys.issuer,
        audience=keys.audience,
    )
    other_key, _ = stranger.issue(
        user_id=uuid.UUID(claims["sub"]),
        territory_id="dk",
        roles=claims["roles"],
        session_id=uuid.UUID(claims["sid"]),
        ttl=timedelta(minutes=5),
    )
    unknown_kid = KeySet(
        [generate_key("nobody")], active_kid="nobody", issuer=keys.issuer, audience=keys.audience
    ).issue(
        user_id=uuid.UUID(claims["sub"]),
        territory_id="dk",
        roles=claims["roles"],
        session_id=uuid.UUID(claims["sid"]),
        ttl=timedelta(minutes=5),
    )[0]
    head, _, signature = valid.split(".")
    tampered_claims = {**claims, "territory": "no", "roles": ["global_admin"]}
    tampered = f"{head}.{b64(json.dumps(tampered_claims).encode())}.{signature}"
    return {
        "alg none": unsigned({"alg": "none", "typ": "JWT", "kid": header["kid"]}, claims),
        "alg None": unsigned({"alg": "None", "typ": "JWT"}, claims),
        "HS256 with the public key": f"{signing_input}.{b64(hs_signature)}",
        "expired": expired,
        "unknown kid": unknown_kid,
        "right kid, wrong key": other_key,
        "tampered claims": tampered,
        "garbage": "not.a.jwt",
        "empty signature": f"{head}.{b64(json.dumps(claims).encode())}.",
    }


@pytest.mark.parametrize(
    "case",
    [
        "alg none",
        "alg None",
        "HS256 with the public key",
        "expired",
        "unknown kid",
        "right kid, wrong key",
        "tampered claims",
        "garbage",
        "empty signature",
    ],
)
async def test_forged_tokens_are_refused(
    auth_client: httpx.AsyncClient, auth_app: Any, member: dict[str, Any], case: str
) -> None:
    token = forged_tokens(auth_app, member["accessToken"])[case]
    body = await call(auth_client, ME, token=token)
    assert body.get("data") is None
    assert codes(body) == ["UNAUTHENTICATED"]
    # Even a public field: a refused token fails the whole operation instead of going anonymous.
    assert codes(await call(auth_client, PUBLIC_QUERY, token=token)) == ["UNAUTHENTICATED"]


@pytest.mark.parametrize("header", ["Basic abc", "Bearer", "Bearer  ", "token xyz"])
async def test_malformed_authorization_header(auth_client: httpx.AsyncClient, header: str) -> None:
    response = await auth_client.post(
        "/graphql", json={"query": PUBLIC_QUERY}, headers={"Authorization": header}
    )
    assert codes(response.json()) == ["UNAUTHENTICATED"]


async def test_anonymous_public_reads_still_work(auth_client: httpx.AsyncClient) -> None:
    body = await call(auth_client, PUBLIC_QUERY)
    assert set(body) == {"data"}, body
    assert {"dk", "no", "se"} <= {t["code"] for t in body["data"]["territories"]["nodes"]}


async def test_token_of_one_territory_cannot_read_another(
    auth_client: httpx.AsyncClient, db: Database, member: dict[str, Any]
) -> None:
    """A valid dk member token against no's private data: refused, and nothing leaks."""
    no_user = await account(auth_client, db, "no")
    no_user_id = no_user["user"]["id"]
    dk = member["accessToken"]

    body = await call(
        auth_client, "query($t: String!) { invitations(territory: $t) { id } }", {"t": "no"}, dk
    )
    assert codes(body) == ["FORBIDDEN"]
    body = await call(
        auth_client,
        "mutation($i: CreateInvitationInput!) { createInvitation(input: $i) { token } }",
        {"i": {"territory": "no"}},
        dk,
    )
    assert codes(body) == ["FORBIDDEN"]
    node = "query($id: ID!) { node(id: $id) { id ... on User { email } } }"
    body = await call(auth_client, node, {"id": no_user_id}, dk)
    assert codes(body) == ["NOT_FOUND"]
    body = await call(
        auth_client, "query($ids: [ID!]!) { nodes(ids: $ids) { id } }", {"ids": [no_user_id]}, dk
    )
    assert body["data"]["nodes"] == [None]
    # A forged id putting no's user key under dk finds nothing either.
    key = base64.urlsafe_b64decode(no_user_id + "==").decode().split(":")[2]
    body = await call(auth_client, node, {"id": encode("User", "dk", key)}, dk)
    assert codes(body) == ["NOT_FOUND"]
    # The owner sees themself through node.
    body = await call(auth_client, node, {"id": no_user_id}, no_user["accessToken"])
    assert body["data"]["node"]["id"] == no_user_id
    # Anonymous callers see no user at all.
    assert codes(await call(auth_client, node, {"id": no_user_id})) == ["NOT_FOUND"]


async def test_refresh_and_login_work_with_a_stale_bearer_header(
    auth_client: httpx.AsyncClient, auth_app: Any, db: Database
) -> None:
    """The usual client: its access token expired, it refreshes with the old header still set."""
    from tests.authkit import REFRESH

    fresh = await account(auth_client, db, "dk")
    stale = forged_tokens(auth_app, fresh["accessToken"])["expired"]
    body = await call(auth_client, REFRESH, {"t": fresh["refreshToken"]}, stale)
    assert "errors" not in body, body
    # Mixed with a field that depends on the caller, the whole operation is refused.
    mixed = (
        "mutation($t: String!) { refreshSession(refreshToken: $t) { accessToken } "
        "logout { endedSessions } }"
    )
    renewed = body["data"]["refreshSession"]["refreshToken"]
    assert codes(await call(auth_client, mixed, {"t": renewed}, stale)) == ["UNAUTHENTICATED"]


async def test_session_check_asks_postgresql_when_redis_is_down(
    auth_app: Any,
    auth_client: httpx.AsyncClient,
    auth_settings: Settings,
    db: Database,
) -> None:
    """A valid token is not trusted blindly while Redis cannot answer: it is checked against
    global.sessions (the durable record, issue 9), so it works if its session is live and is
    refused once logged out. (Before, Redis held the only record and this failed closed.)"""
    member = await account(auth_client, db, "dk")  # its own: it is logged out below
    keys = keys_of(auth_app)
    kid = next(iter(keys._keys))
    app = create_app(
        auth_settings.model_copy(
            update={
                "redis_url": f"redis://127.0.0.1:{free_port()}/0",
                "jwt_private_keys": {kid: private_pem(keys._keys[kid])},
            }
        ),
        db,
    )
    transport = httpx.ASGITransport(app=app)
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
            body = await call(c, ME, token=member["accessToken"])
            assert "errors" not in body, body
            out = await call(auth_client, LOGOUT, {"all": False}, member["accessToken"])
            assert "errors" not in out, out
            body = await call(c, ME, token=member["accessToken"])
    finally:
        await app.state.redis.aclose()
    assert body.get("data") is None
    assert codes(body) == ["UNAUTHENTICATED"]
