"""Short-lived authentication state in Redis: login failure counters and the session cache.

Sessions: ``global.sessions`` and ``global.role_assignments`` (PostgreSQL) are the durable
record; Redis only caches them. Per request the check reads, in ONE round trip (the script in
graph/server/auth.py, with the rate-limit bucket): tombstones of ended sessions and revoked
grants (written at logout and revocation, so a refusal is fast) and the *positive* cache, "this
session was alive with these grants", which expires after ``CACHE_SECONDS``. A miss of the
positive cache is never "allowed": it sends the check to PostgreSQL. So a Redis that restarts
empty, fails over to a lagging replica or evicts keys costs a re-check, never a resurrected
session; the one stale window is a positive entry written by a check that raced a logout, which
the tombstone written after the logout overrides.

Keys are ``<prefix>auth:...`` and carry no personal data: an account is named by a SHA-256 of its
throttling subject (``db.accounts.throttle_subjects``: the account itself, whichever identifier
named it), a client by a SHA-256 of its address. Everything expires by itself.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from redis.asyncio import Redis


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()[:32]


@dataclass(frozen=True, slots=True)
class Limits:
    per_account: int
    per_ip: int
    window_seconds: int


class AuthState:
    def __init__(
        self, redis: Redis, prefix: str, limits: Limits, *, cache_seconds: int = 60
    ) -> None:
        self._redis = redis
        self._prefix = f"{prefix}auth:"
        self.limits = limits
        # How long a positive session entry ("alive, with these grants") is trusted.
        self.cache_seconds = cache_seconds

    def _account(self, subject: str) -> str:
        return f"{self._prefix}fail:acct:{_digest(subject)}"

    def _ip(self, client_ip: str) -> str:
        return f"{self._prefix}fail:ip:{_digest(client_ip)}"

    def session_keys(self, session_id: str, identity: bytes) -> list[str]:
        """The keys the per-request check reads: ended, revoked, alive, grants (this order)."""
        return [
            self._ended(session_id),
            self._revoked(identity),
            self._alive(session_id),
            self._grants(identity),
        ]

    def _alive(self, session_id: str) -> str:
        return f"{self._prefix}alive:{session_id}"

    def _grants(self, identity: bytes) -> str:
        return f"{self._prefix}grants:{_digest(identity.hex())}"

    async def remember(self, session_id: str, identity: bytes, grants: Iterable[str]) -> None:
        """Cache that the session is alive with ``grants``, as PostgreSQL says (at login and
        refresh, which just wrote it, or after a check), for ``cache_seconds``."""
        ttl = self.cache_seconds
        async with self._redis.pipeline(transaction=False) as pipe:
            pipe.set(self._alive(session_id), 1, ex=ttl)
            pipe.set(self._grants(identity), ",".join(sorted(grants)), ex=ttl)
            await pipe.execute()

    async def forget_grants(self, identity: bytes) -> None:
        """Drop the cached grants of ``identity``: its next request re-reads PostgreSQL."""
        await self._redis.delete(self._grants(identity))

    def _ended(self, session_id: str) -> str:
        return f"{self._prefix}ended:{session_id}"

    async def _claim(self, keys: list[str]) -> list[int]:
        """INCR every key (each expiring one window after its first attempt); the new counts.

        Atomic per key: N parallel attempts get N distinct counts, so at most the allowance of
        them see a count within it. Reading the count and writing it after the password check
        (as before) let 20 parallel guesses all pass a limit of 5.
        """
        window = self.limits.window_seconds
        async with self._redis.pipeline(transaction=True) as pipe:
            for key in keys:
                pipe.incr(key)
                pipe.expire(key, window, nx=True)
            results = await pipe.execute()
        return [int(v) for v in results[::2]]

    async def claim_ip(self, client_ip: str) -> int:
        """Count one login attempt of the client before anything is checked; its new count."""
        (count,) = await self._claim([self._ip(client_ip)])
        return count

    async def claim_accounts(self, subjects: Sequence[str]) -> int:
        """Count one attempt against each account the identifier names; the highest count."""
        return max(await self._claim([self._account(s) for s in subjects]), default=0)

    async def release(self, subjects: Sequence[str], client_ip: str | None = None) -> None:
        """Give back claims of an attempt that turned out not to be a failure."""
        keys = [self._account(s) for s in subjects]
        if client_ip is not None:
            keys.append(self._ip(client_ip))
        if keys:
            async with self._redis.pipeline(transaction=True) as pipe:
                for key in keys:
                    pipe.decr(key)
                await pipe.execute()

    async def clear_accounts(self, subjects: Sequence[str]) -> None:
        if subjects:
            await self._redis.delete(*map(self._account, subjects))

    async def end_sessions(self, session_ids: list[str], *, ttl: int) -> None:
        """Make access tokens of ended sessions fail before they expire by themselves.

        ``ttl`` is the access token lifetime: after it, no token of the session is left.
        """
        if not session_ids:
            return
        async with self._redis.pipeline(transaction=False) as pipe:
            for sid in session_ids:
                pipe.set(self._ended(sid), 1, ex=ttl)
                pipe.delete(self._alive(sid))
            await pipe.execute()

    def _revoked(self, identity: bytes) -> str:
        return f"{self._prefix}revoked:{_digest(identity.hex())}"

    async def grant_revoked(self, identity: bytes, grant: str, *, ttl: int) -> None:
        """Refuse access tokens that still carry a revoked grant (``ttl``: their lifetime)."""
        key = self._revoked(identity)
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.sadd(key, grant)
            pipe.expire(key, ttl)
            pipe.delete(self._grants(identity))
            await pipe.execute()

    async def grant_restored(self, identity: bytes, grant: str) -> None:
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.srem(self._revoked(identity), grant)
            pipe.delete(self._grants(identity))
            await pipe.execute()

    def refusal(self, roles: Iterable[str], reply: Sequence[object]) -> Cached:
        """What the cache says of a session from the script's reply for ``session_keys``."""
        ended, revoked, alive, grants = reply
        held = set(roles)
        if ended:
            return Cached(ENDED)
        if {_text(r) for r in (revoked or [])} & held:  # type: ignore[attr-defined]
            return Cached(REVOKED)
        if not alive or grants is None:
            return Cached(None, known=False)  # a miss: ask PostgreSQL
        current = {g for g in _text(grants).split(",") if g}
        return Cached(None if held <= current else REVOKED)


ENDED = "This session has ended; log in again."
REVOKED = "A role of this session was revoked; refresh the session."


@dataclass(frozen=True, slots=True)
class Cached:
    """The cache's verdict: ``refusal`` (None: allowed) when ``known``, else ask PostgreSQL."""

    refusal: str | None
    known: bool = True


def _text(value: object) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)
