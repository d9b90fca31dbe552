"""Request rate limits: one token bucket per authenticated caller, else per client address.

Why a token bucket in Redis: every API process and worker must draw from the same bucket, and a
bucket allows the short bursts a page load makes (``*_BURST`` requests at once) while holding the
sustained rate to ``*_PER_SECOND``. One Lua script reads, refills and takes atomically, using
Redis's own clock (``TIME``), so processes with skewed clocks still agree.

Keys are ``<REDIS_KEY_PREFIX>rl:user:<hash>`` / ``rl:ip:<hash>`` (no personal data: SHA-256 of the
caller's territory and id, or of the address) and expire once the bucket would be full again.

If Redis cannot be reached the request is allowed (fail open) and a warning is logged at most
once a minute: rate limiting protects capacity, and refusing all traffic because the limiter is
down would turn a Redis outage into a full API outage (never a 500 for it). Sessions ended by
logout are also in Redis (graph/server/auth.py) and fail the other way; that is their own decision.

The client address is the TCP peer; ``X-Forwarded-For`` counts only when the peer is one of
``TRUSTED_PROXIES``, and then the right-most hop that is not itself a trusted proxy is the client
(the left part of that header is whatever the client wrote). An IPv6 client counts as its /64,
the block one subscriber is usually given, so rotating addresses within it gains nothing.
"""

from __future__ import annotations

import hashlib
import ipaddress
import logging
import math
import time
from collections.abc import Iterable
from dataclasses import dataclass

from redis.asyncio import Redis
from redis.exceptions import RedisError
from starlette.requests import HTTPConnection

from domain.callers import Caller
from unityplan.settings import Settings

log = logging.getLogger("unityplan.ratelimit")

RATE_LIMITED = "RATE_LIMITED"

# take(bucket key, tokens per second, burst, cost) -> {allowed, retry-after ms}. A Lua function
# so graph/server/auth.py can run it in the same script as the session check (one round trip).
BUCKET_LUA = """
local function take(key, rate, burst, cost)
  local clock = redis.call('TIME')
  local now = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)
  local state = redis.call('HMGET', key, 'tokens', 'ts')
  local tokens = tonumber(state[1])
  local ts = tonumber(state[2])
  if tokens == nil or ts == nil then
    tokens = burst
    ts = now
  end
  tokens = math.min(burst, tokens + math.max(0, now - ts) * rate / 1000)
  local allowed = 0
  local retry = 0
  if tokens >= cost then
    tokens = tokens - cost
    allowed = 1
  else
    retry = math.ceil((cost - tokens) * 1000 / rate)
  end
  redis.call('HSET', key, 'tokens', tostring(tokens), 'ts', tostring(now))
  redis.call('PEXPIRE', key, math.ceil((burst - tokens) * 1000 / rate) + 1000)
  return {allowed, retry}
end
"""
# KEYS[1]: the bucket; ARGV: tokens per second, burst, cost. Returns {allowed, retry-after ms}.
_BUCKET_SCRIPT = (
    BUCKET_LUA + "return take(KEYS[1], tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]))\n"
)

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
# The prefix of an IPv6 address that identifies one subscriber (see ``_subscriber``).
IPV6_SUBSCRIBER_PREFIX = 64


@dataclass(frozen=True, slots=True)
class Bucket:
    per_second: float
    burst: int


@dataclass(frozen=True, slots=True)
class RateLimits:
    enabled: bool = True
    anonymous: Bucket = Bucket(5.0, 60)
    authenticated: Bucket = Bucket(20.0, 200)
    trusted_proxies: tuple[Network, ...] = ()

    @classmethod
    def from_settings(cls, settings: Settings) -> RateLimits:
        return cls(
            enabled=settings.rate_limit,
            anonymous=Bucket(
                settings.rate_limit_anonymous_per_second, settings.rate_limit_anonymous_burst
            ),
            authenticated=Bucket(
                settings.rate_limit_authenticated_per_second,
                settings.rate_limit_authenticated_burst,
            ),
            trusted_proxies=parse_networks(settings.trusted_proxies),
        )


def parse_networks(values: Iterable[str]) -> tuple[Network, ...]:
    """``["10.0.0.0/8", "192.0.2.7"]`` as networks (a bare address is a one-address network)."""
    return tuple(ipaddress.ip_network(value.strip(), strict=False) for value in values)


def _ip(address: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """``address`` parsed, an IPv4-mapped IPv6 address (a dual-stack socket's) as IPv4."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return None
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    return ip


def _trusted(address: str, proxies: tuple[Network, ...]) -> bool:
    ip = _ip(address)
    return ip is not None and any(ip in network for network in proxies)


def _subscriber(address: str) -> str:
    """What one subscriber controls: an IPv4 address, or the /64 of an IPv6 one.

    An IPv6 subscriber is routinely given a whole /64 (RFC 6177), so a limit per IPv6 address
    would be no limit at all: the client picks a fresh address per request.
    """
    ip = _ip(address)
    if ip is None:
        return address
    if isinstance(ip, ipaddress.IPv6Address):
        return str(ipaddress.IPv6Network((ip, IPV6_SUBSCRIBER_PREFIX), strict=False))
    return str(ip)


def client_address(connection: HTTPConnection, trusted_proxies: tuple[Network, ...]) -> str:
    """The client as rate limits and login throttling count it: the peer, or what trusted
    proxies say in ``X-Forwarded-For``; an IPv6 client is its /64 (``_subscriber``)."""
    peer = connection.client.host if connection.client else "unknown"
    if not trusted_proxies or not _trusted(peer, trusted_proxies):
        return _subscriber(peer)
    hops = [
        hop.strip()
        for header in connection.headers.getlist("x-forwarded-for")
        for hop in header.split(",")
        if hop.strip()
    ]
    for hop in reversed(hops):
        if not _trusted(hop, trusted_proxies):
            return _subscriber(hop)
    return _subscriber(hops[0] if hops else peer)


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()[:32]


class RateLimiter:
    """Take tokens from the caller's bucket; say how long to wait when it is empty."""

    def __init__(self, redis: Redis, prefix: str, limits: RateLimits) -> None:
        self._script = redis.register_script(_BUCKET_SCRIPT)
        self._prefix = f"{prefix}rl:"
        self.limits = limits
        self._last_warning = -math.inf

    def key(self, caller: Caller | None, address: str) -> tuple[str, Bucket]:
        """The bucket of ``caller`` (authenticated) or of ``address``, with its limits."""
        if caller is not None and caller.is_authenticated:
            who = f"{caller.territory_id}:{caller.user_id}"
            return f"{self._prefix}user:{_digest(who)}", self.limits.authenticated
        return f"{self._prefix}ip:{_digest(address)}", self.limits.anonymous

    def charge(
        self, caller: Caller | None, connection: HTTPConnection, cost: int = 1
    ) -> tuple[str, list[float]] | None:
        """(bucket key, [rate, burst, cost]) for ``BUCKET_LUA``'s ``take``; None: no charge."""
        if not self.limits.enabled or cost <= 0:
            return None
        key, bucket = self.key(caller, client_address(connection, self.limits.trusted_proxies))
        cost = min(cost, bucket.burst)  # a batch larger than the burst still runs, once full
        return key, [bucket.per_second, bucket.burst, cost]

    def unreachable(self, error: BaseException) -> int:
        """Fail open (0) while Redis is down, warning at most once a minute."""
        now = time.monotonic()
        if now - self._last_warning >= 60:
            self._last_warning = now
            log.warning("rate limiting is off while Redis is unreachable: %s", error)
        return 0

    @staticmethod
    def wait(allowed: int | str | bytes, retry_ms: int | str | bytes) -> int:
        """0 when ``take`` allowed, else whole seconds (>= 1) to wait."""
        if int(allowed):
            return 0
        return max(1, math.ceil(int(retry_ms) / 1000))

    async def take(self, caller: Caller | None, connection: HTTPConnection, cost: int = 1) -> int:
        """0 when allowed, else whole seconds (>= 1) until ``cost`` tokens are there again."""
        charge = self.charge(caller, connection, cost)
        if charge is None:
            return 0
        key, args = charge
        try:
            allowed, retry_ms = await self._script(keys=[key], args=args)
        except (RedisError, OSError) as error:
            return self.unreachable(error)
        return self.wait(allowed, retry_ms)


def retry_message(seconds: int) -> str:
    return f"Too many requests; retry in {seconds} second{'s' if seconds != 1 else ''}."
