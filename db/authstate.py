"""Short-lived authentication state in Redis: login failure counters and ended sessions.

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
    def __init__(self, redis: Redis, prefix: str, limits: Limits) -> None:
        self._redis = redis
        self._prefix = f"{prefix}auth:"
        self.limits = limits

    def _account(self, subject: str) -> str:
        return f"{self._prefix}fail:acct:{_digest(subject)}"

    def _ip(self, client_ip: str) -> str:
        return f"{self._prefix}fail:ip:{_digest(client_ip)}"

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
            await pipe.execute()

    def _revoked(self, identity: bytes) -> str:
        return f"{self._prefix}revoked:{_digest(identity.hex())}"

    async def grant_revoked(self, identity: bytes, grant: str, *, ttl: int) -> None:
        """Refuse access tokens that still carry a revoked grant (``ttl``: their lifetime)."""
        key = self._revoked(identity)
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.sadd(key, grant)
            pipe.expire(key, ttl)
            await pipe.execute()

    async def grant_restored(self, identity: bytes, grant: str) -> None:
        await self._redis.srem(self._revoked(identity), grant)

    async def refusal(self, session_id: str, identity: bytes, roles: Iterable[str]) -> str | None:
        """Why an otherwise valid access token must be refused now, or None: one round trip."""
        async with self._redis.pipeline(transaction=False) as pipe:
            pipe.exists(self._ended(session_id))
            pipe.smembers(self._revoked(identity))
            ended, revoked = await pipe.execute()
        if ended:
            return "This session has ended; log in again."
        if {r.decode() if isinstance(r, bytes) else str(r) for r in revoked} & set(roles):
            return "A role of this session was revoked; refresh the session."
        return None
