"""Short-lived authentication state in Redis: login failure counters and ended sessions.

Keys are ``<prefix>auth:...`` and carry no personal data: an account is named by a SHA-256 of
(territory, identifier), a client by a SHA-256 of its address. Everything expires by itself.
"""

from __future__ import annotations

import hashlib
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

    def _account(self, territory_id: str | None, identifier: str) -> str:
        # By identifier alone: naming a territory or not must not buy extra attempts.
        return f"{self._prefix}fail:acct:{_digest(identifier.lower())}"

    def _ip(self, client_ip: str) -> str:
        return f"{self._prefix}fail:ip:{_digest(client_ip)}"

    def _ended(self, session_id: str) -> str:
        return f"{self._prefix}ended:{session_id}"

    async def failures(
        self, territory_id: str | None, identifier: str, client_ip: str
    ) -> tuple[int, int]:
        """(failures of the account, failures of the client address) in the current window."""
        account, ip = await self._redis.mget(
            self._account(territory_id, identifier), self._ip(client_ip)
        )
        return int(account or 0), int(ip or 0)

    async def record_failure(
        self, territory_id: str | None, identifier: str, client_ip: str
    ) -> tuple[int, int]:
        window = self.limits.window_seconds
        async with self._redis.pipeline(transaction=True) as pipe:
            for key in (self._account(territory_id, identifier), self._ip(client_ip)):
                pipe.incr(key)
                pipe.expire(key, window, nx=True)
            account, _, ip, _ = await pipe.execute()
        return int(account), int(ip)

    async def clear_account(self, territory_id: str | None, identifier: str) -> None:
        await self._redis.delete(self._account(territory_id, identifier))

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

    async def is_ended(self, session_id: str) -> bool:
        return bool(await self._redis.exists(self._ended(session_id)))
