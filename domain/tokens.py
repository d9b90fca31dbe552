"""Access tokens: short-lived EdDSA (Ed25519) JWTs, verified against a key set chosen by ``kid``.

Only ``EdDSA`` is accepted and the key is picked by ``kid`` from our own set, never from the
token: ``alg: none``, HS256 signed with a public key, unknown kids, expired or tampered tokens are
all rejected with the same ``Unauthenticated`` (the reason is in the message, never the token).

Claims: ``sub`` (user id in its territory), ``territory``, ``roles`` (grant strings, see
``domain.roles``), ``sid`` (the session family, for logout), ``iat``, ``exp``, ``jti``, ``iss``,
``aud``.
"""

from __future__ import annotations

import base64
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from domain.callers import Caller
from domain.errors import BadUserInput, Unauthenticated
from domain.territories import validate_territory_id

ALGORITHM = "EdDSA"
MAX_TOKEN_LENGTH = 8192


@dataclass(frozen=True, slots=True)
class SigningKey:
    kid: str
    private_key: Ed25519PrivateKey

    def __repr__(self) -> str:  # never print key material
        return f"SigningKey(kid={self.kid!r})"

    @property
    def public_key(self) -> Ed25519PublicKey:
        return self.private_key.public_key()

    def jwk(self) -> dict[str, str]:
        raw = self.public_key.public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw
        )
        x = base64.urlsafe_b64encode(raw).decode().rstrip("=")
        return {
            "kty": "OKP",
            "crv": "Ed25519",
            "x": x,
            "kid": self.kid,
            "alg": ALGORITHM,
            "use": "sig",
        }


def load_private_key(kid: str, pem: str) -> SigningKey:
    key = serialization.load_pem_private_key(pem.encode(), password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise ValueError(f"JWT key {kid!r} is not an Ed25519 private key")
    return SigningKey(kid, key)


def generate_key(kid: str) -> SigningKey:
    return SigningKey(kid, Ed25519PrivateKey.generate())


def private_pem(key: SigningKey) -> str:
    return key.private_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


@dataclass(frozen=True, slots=True)
class AccessClaims:
    user_id: uuid.UUID
    territory_id: str
    roles: tuple[str, ...]
    session_id: uuid.UUID
    issued_at: datetime
    expires_at: datetime
    token_id: str
    # Until when the account's Code of Conduct award is valid (claim ``coc``), as of issuing;
    # None: no valid award then. The gate trusts it until that instant (graph/code_of_conduct.py).
    code_of_conduct_until: datetime | None = None

    def caller(self) -> Caller:
        return Caller(
            user_id=str(self.user_id),
            territory_id=self.territory_id,
            roles=frozenset(self.roles),
            session_id=str(self.session_id),
            expires_at=self.expires_at,
            code_of_conduct_until=self.code_of_conduct_until,
        )


class KeySet:
    """The signing key and every key that still verifies (the previous ones, during rotation)."""

    def __init__(
        self, keys: list[SigningKey], *, active_kid: str, issuer: str, audience: str
    ) -> None:
        self._keys = {k.kid: k for k in keys}
        if active_kid not in self._keys:
            raise ValueError("JWT_ACTIVE_KID names no configured key")
        self._active = self._keys[active_kid]
        self.issuer = issuer
        self.audience = audience

    def __repr__(self) -> str:
        return f"KeySet(kids={sorted(self._keys)!r}, active={self._active.kid!r})"

    def jwks(self) -> dict[str, list[dict[str, str]]]:
        return {"keys": [k.jwk() for k in self._keys.values()]}

    def issue(
        self,
        *,
        user_id: uuid.UUID,
        territory_id: str,
        roles: list[str],
        session_id: uuid.UUID,
        ttl: timedelta,
        now: datetime | None = None,
        code_of_conduct_until: datetime | None = None,
    ) -> tuple[str, datetime]:
        issued = (now or datetime.now(UTC)).replace(microsecond=0)
        expires = issued + ttl
        payload: dict[str, Any] = {
            "sub": str(user_id),
            "territory": territory_id,
            "roles": sorted(roles),
            "sid": str(session_id),
            "iat": int(issued.timestamp()),
            "exp": int(expires.timestamp()),
            "jti": uuid.uuid4().hex,
            "iss": self.issuer,
            "aud": self.audience,
        }
        if code_of_conduct_until is not None:
            payload["coc"] = int(code_of_conduct_until.timestamp())
        token = jwt.encode(
            payload,
            self._active.private_key,
            algorithm=ALGORITHM,
            headers={"kid": self._active.kid},
        )
        return token, expires

    def verify(self, token: str) -> AccessClaims:
        if len(token) > MAX_TOKEN_LENGTH:
            raise Unauthenticated("Invalid access token.")
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError:
            raise Unauthenticated("Invalid access token.") from None
        if header.get("alg") != ALGORITHM:
            raise Unauthenticated("Invalid access token: unsupported algorithm.")
        # The kid as written: str() of a missing one would match a key named "None".
        kid = header.get("kid")
        key = self._keys.get(kid) if isinstance(kid, str) else None
        if key is None:
            raise Unauthenticated("Invalid access token: unknown signing key.")
        try:
            claims = jwt.decode(
                token,
                key.public_key,
                algorithms=[ALGORITHM],
                audience=self.audience,
                issuer=self.issuer,
                options={"require": ["sub", "territory", "roles", "sid", "iat", "exp", "jti"]},
            )
        except jwt.ExpiredSignatureError:
            raise Unauthenticated("The access token has expired; refresh the session.") from None
        except jwt.PyJWTError:
            raise Unauthenticated("Invalid access token.") from None
        try:
            roles = claims["roles"]
            if not isinstance(roles, list) or not all(isinstance(r, str) for r in roles):
                raise ValueError("roles")
            return AccessClaims(
                user_id=uuid.UUID(str(claims["sub"])),
                territory_id=validate_territory_id(claims["territory"]),
                roles=tuple(roles),
                session_id=uuid.UUID(str(claims["sid"])),
                issued_at=datetime.fromtimestamp(int(claims["iat"]), UTC),
                expires_at=datetime.fromtimestamp(int(claims["exp"]), UTC),
                token_id=str(claims["jti"]),
                code_of_conduct_until=_instant(claims.get("coc")),
            )
        except (ValueError, TypeError, KeyError, BadUserInput):
            raise Unauthenticated("Invalid access token.") from None


def _instant(value: object) -> datetime | None:
    """An optional epoch-seconds claim; anything but an integer is malformed."""
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool):
        raise ValueError("not an instant")
    return datetime.fromtimestamp(value, UTC)
