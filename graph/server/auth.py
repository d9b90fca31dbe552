"""Authentication of a request, in one place: a bearer token becomes a ``Caller``.

HTTP sends ``Authorization: Bearer <access token>``; WebSocket clients send the same token in the
``connection_init`` payload (``{"Authorization": "Bearer ..."}`` or ``{"accessToken": "..."}``).
No token means anonymous. A token that fails verification, whose session has ended (logout,
refresh-token reuse) or that carries a role revoked since it was issued, is an ``Unauthenticated``
error for the whole operation rather than a silent downgrade to anonymous, so a client learns at
once that it must refresh or log in again.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from redis.asyncio import Redis
from redis.exceptions import RedisError
from starlette.requests import HTTPConnection

from db.accounts import AuthConfig
from db.authstate import AuthState, Limits
from domain import passwords
from domain.callers import ANONYMOUS, Caller
from domain.errors import Unauthenticated, Unavailable
from domain.tokens import KeySet, SigningKey, generate_key, load_private_key, private_pem
from graph.server.ratelimit import Network, client_address, parse_networks
from unityplan.settings import Settings

log = logging.getLogger("unityplan.auth")


def load_keyset(settings: Settings) -> KeySet:
    """The configured Ed25519 keys, or a development key outside production (with a warning)."""
    keys: list[SigningKey]
    if settings.jwt_private_keys:
        keys = [load_private_key(kid, pem) for kid, pem in settings.jwt_private_keys.items()]
        active = settings.jwt_active_kid or sorted(settings.jwt_private_keys)[-1]
    elif settings.unityplan_env == "production":
        raise RuntimeError("JWT_PRIVATE_KEYS must be set in production")
    elif settings.unityplan_env == "development":
        keys = [_development_key(Path(settings.jwt_dev_key_file))]
        active = keys[0].kid
        log.warning(
            "JWT_PRIVATE_KEYS is not set: signing with the development key in %s",
            settings.jwt_dev_key_file,
        )
    else:
        keys = [generate_key("test")]
        active = "test"
        log.warning("JWT_PRIVATE_KEYS is not set: signing with a key generated for this process")
    return KeySet(
        keys, active_kid=active, issuer=settings.jwt_issuer, audience=settings.jwt_audience
    )


def _development_key(path: Path) -> SigningKey:
    """One key per checkout, so several workers and restarts accept each other's tokens."""
    if path.exists():
        return load_private_key("dev", path.read_text())
    key = generate_key("dev")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.touch(mode=0o600)
    path.write_text(private_pem(key))
    return key


@dataclass(frozen=True, slots=True)
class AuthServices:
    """Process-wide: token keys, identity key, Redis-backed throttling and ended sessions."""

    config: AuthConfig
    state: AuthState
    # Login throttling keys on the same client address as rate limiting (TRUSTED_PROXIES).
    trusted_proxies: tuple[Network, ...] = ()

    def __repr__(self) -> str:
        return "AuthServices()"

    @classmethod
    def from_settings(cls, settings: Settings, redis: Redis) -> AuthServices:
        config = AuthConfig(
            keys=load_keyset(settings),
            identity_key=settings.identity_key(),
            access_ttl=timedelta(seconds=settings.access_token_ttl_seconds),
            refresh_ttl=timedelta(seconds=settings.refresh_token_ttl_seconds),
            hasher=passwords.HASHERS[settings.password_hashing],
        )
        limits = Limits(
            per_account=settings.login_max_failures_per_account,
            per_ip=settings.login_max_failures_per_ip,
            window_seconds=settings.login_failure_window_seconds,
        )
        return cls(
            config,
            AuthState(redis, settings.redis_key_prefix, limits),
            parse_networks(settings.trusted_proxies),
        )

    def client_ip(self, connection: HTTPConnection) -> str:
        return client_address(connection, self.trusted_proxies)

    async def caller_for(self, token: str) -> Caller:
        """Verify an access token, that its session has not ended and no grant of it was revoked."""
        claims = self.config.keys.verify(token)
        caller = claims.caller()
        await self.recheck(caller)
        return caller

    async def recheck(self, caller: Caller) -> None:
        """Refuse a caller whose token expired, or whose session ended or lost a role since.

        HTTP asks once per request; a WebSocket, whose caller was fixed at ``connection_init``,
        asks again before each operation. If Redis cannot answer, the check fails closed
        (SERVICE_UNAVAILABLE): a logged-out token must not work because Redis is down.
        """
        if not caller.is_authenticated or caller.session_id is None:
            return
        if caller.expires_at is not None and caller.expires_at <= datetime.now(UTC):
            raise Unauthenticated("The access token has expired; refresh the session.")
        territory_id, user_id = caller.account()
        identity = self.config.identity(territory_id, user_id)
        try:
            refused = await self.state.refusal(caller.session_id, identity, caller.roles)
        except RedisError:
            log.warning("session check unavailable: Redis did not answer")
            raise Unavailable("Sessions cannot be checked right now; retry shortly.") from None
        if refused is not None:
            raise Unauthenticated(refused)


def bearer_token(value: object) -> str | None:
    """The token of an ``Authorization`` value; raises on a malformed one."""
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise Unauthenticated("Malformed Authorization header.")
    scheme, _, token = value.strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthenticated("Authorization must be 'Bearer <access token>'.")
    return token.strip()


async def authenticate_http(
    services: AuthServices, connection: HTTPConnection
) -> tuple[Caller, Unauthenticated | Unavailable | None]:
    """The caller of an HTTP request, or anonymous with the reason its token was refused."""
    try:
        token = bearer_token(connection.headers.get("authorization"))
        if token is None:
            return ANONYMOUS, None
        return await services.caller_for(token), None
    except (Unauthenticated, Unavailable) as error:
        return ANONYMOUS, error


async def authenticate_ws(services: AuthServices, payload: Mapping[str, object]) -> Caller:
    """The caller of a WebSocket connection from its ``connection_init`` payload."""
    raw = payload.get("Authorization", payload.get("authorization"))
    token = bearer_token(raw) if raw is not None else None
    if token is None and "accessToken" in payload:
        access = payload["accessToken"]
        if not isinstance(access, str) or not access:
            raise Unauthenticated("accessToken must be a non-empty string.")
        token = access
    if token is None:
        return ANONYMOUS
    return await services.caller_for(token)
