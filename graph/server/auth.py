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
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from redis.asyncio import Redis
from redis.commands.core import AsyncScript
from redis.exceptions import RedisError
from starlette.requests import HTTPConnection

from db import roles as role_db
from db import sessions as session_db
from db.accounts import AuthConfig
from db.authstate import ENDED, REVOKED, AuthState, Cached, Limits
from db.engines import Database
from domain import passwords
from domain.callers import ANONYMOUS, Caller
from domain.errors import Unauthenticated, Unavailable
from domain.tokens import KeySet, SigningKey, generate_key, load_private_key, private_pem
from graph.server.ratelimit import (
    BUCKET_LUA,
    Network,
    RateLimiter,
    client_address,
    parse_networks,
)
from unityplan.settings import MAIN_SERVER, Settings

log = logging.getLogger("unityplan.auth")

# ONE round trip per authenticated request (issue 10): the session's cache entries
# (db/authstate.py ``session_keys``: ended, revoked, alive, grants) and, when KEYS[5] is given,
# a token from the caller's rate-limit bucket (graph/server/ratelimit.py ``take``).
_CHECK_SCRIPT = (
    BUCKET_LUA
    + """
local ended = redis.call('EXISTS', KEYS[1])
local revoked = redis.call('SMEMBERS', KEYS[2])
local alive = redis.call('GET', KEYS[3])
local grants = redis.call('GET', KEYS[4])
local bucket = {1, 0}
if KEYS[5] then
  bucket = take(KEYS[5], tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]))
end
return {ended, revoked, alive, grants, bucket}
"""
)


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
    # The durable session record (global.sessions, global.role_assignments) a cache miss reads.
    db: Database | None = None
    check_script: AsyncScript | None = field(default=None, compare=False)

    def __repr__(self) -> str:
        return "AuthServices()"

    @classmethod
    def from_settings(
        cls, settings: Settings, redis: Redis, db: Database | None = None
    ) -> AuthServices:
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
            AuthState(
                redis,
                settings.redis_key_prefix,
                limits,
                cache_seconds=settings.session_cache_seconds,
            ),
            parse_networks(settings.trusted_proxies),
            db,
            redis.register_script(_CHECK_SCRIPT),
        )

    def client_ip(self, connection: HTTPConnection) -> str:
        return client_address(connection, self.trusted_proxies)

    async def caller_for(
        self, token: str, charge: tuple[str, list[float]] | None = None
    ) -> tuple[Caller, int | None]:
        """Verify an access token, that its session has not ended and no grant of it was revoked;
        with the rate-limit wait when ``charge`` was taken in the same round trip (else None)."""
        claims = self.config.keys.verify(token)
        caller = claims.caller()
        return caller, await self.recheck(caller, charge)

    async def recheck(
        self, caller: Caller, charge: tuple[str, list[float]] | None = None
    ) -> int | None:
        """Refuse a caller whose token expired, or whose session ended or lost a role since.

        HTTP asks once per request (and takes its rate-limit token in the same Redis round
        trip); a WebSocket, whose caller was fixed at ``connection_init``, asks again before each
        operation. Redis is a cache of PostgreSQL here (db/authstate.py): a miss, or Redis down,
        means asking PostgreSQL, never "allowed". Returns the rate-limit wait for ``charge``, or
        None when nothing was charged (anonymous callers are charged by the transport).
        """
        if not caller.is_authenticated or caller.session_id is None:
            return None
        if caller.expires_at is not None and caller.expires_at <= datetime.now(UTC):
            raise Unauthenticated("The access token has expired; refresh the session.")
        territory_id, user_id = caller.account()
        identity = self.config.identity(territory_id, user_id)
        keys = self.state.session_keys(caller.session_id, identity)
        args: list[float] = []
        if charge is not None:
            keys.append(charge[0])
            args = charge[1]
        wait: int | None = None
        redis_up = True
        try:
            if self.check_script is None:
                raise RedisError("no session check script")
            reply = await self.check_script(keys=keys, args=args)
            verdict = self.state.refusal(caller.roles, reply[:4])
            if charge is not None:
                wait = RateLimiter.wait(*reply[4])
        except (RedisError, OSError):
            log.warning("session cache unavailable: Redis did not answer; asking PostgreSQL")
            redis_up = False
            verdict = Cached(None, known=False)
            wait = 0 if charge is not None else None  # rate limiting fails open
        refusal = verdict.refusal
        if not verdict.known:
            refusal = await self._durable_refusal(caller, identity, remember=redis_up)
        if refusal is not None:
            raise Unauthenticated(refusal)
        return wait

    async def _durable_refusal(
        self, caller: Caller, identity: bytes, *, remember: bool
    ) -> str | None:
        """The session's state in PostgreSQL, cached in Redis for ``cache_seconds``."""
        if self.db is None or caller.session_id is None:
            raise Unavailable("Sessions cannot be checked right now; retry shortly.")
        async with self.db.connect(MAIN_SERVER) as conn:
            alive = await session_db.family_alive(conn, uuid.UUID(caller.session_id), identity)
            found = await role_db.active_grants(conn, [identity])
        grants = {g.encode() for g in found.get(identity, [])}
        if alive and remember:
            try:
                await self.state.remember(caller.session_id, identity, grants)
            except (RedisError, OSError):
                log.warning("session cache not written: Redis did not answer")
        if not alive:
            return ENDED
        return None if set(caller.roles) <= grants else REVOKED


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
    services: AuthServices, connection: HTTPConnection, limiter: RateLimiter | None = None
) -> tuple[Caller, Unauthenticated | Unavailable | None, int | None]:
    """The caller of an HTTP request, or anonymous with the reason its token was refused; and
    the rate-limit wait of the request's first token when it was taken in the session check's
    round trip (None: not taken, the transport charges the caller)."""
    try:
        token = bearer_token(connection.headers.get("authorization"))
        if token is None:
            return ANONYMOUS, None, None
        claims = services.config.keys.verify(token)
        caller = claims.caller()
        charge = None if limiter is None else limiter.charge(caller, connection, 1)
        wait = await services.recheck(caller, charge)
        return caller, None, wait
    except (Unauthenticated, Unavailable) as error:
        return ANONYMOUS, error, None


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
    caller, _ = await services.caller_for(token)
    return caller
