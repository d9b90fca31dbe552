"""Liveness and readiness: ``/healthz`` says the process runs, ``/readyz`` that it can serve.

Readiness fails only for what serving needs: every database server, and Redis (login throttling
cannot work without it). NATS carries events out of the outbox (written in PostgreSQL, relayed
later) and no request waits for it, so NATS down is *degraded*: named in the JSON under
``degraded`` and in ``/metrics`` (``dependency_up{dependency="nats"} 0``), while the instance
stays in the load balancer. Failing readiness for it would take every healthy instance out at
once, as all of them share the one NATS. When subscriptions come to depend on NATS, a NATS outage
will cost live updates (subscriptions end or stall), still not queries or mutations.
"""

from __future__ import annotations

import asyncio

import nats
from redis.asyncio import Redis
from starlette.requests import Request
from starlette.responses import JSONResponse

from db.engines import Database

PROBE_TIMEOUT = 2.0


async def _nats_ready(url: str) -> bool:
    try:
        async with asyncio.timeout(PROBE_TIMEOUT):
            client = await nats.connect(
                url, connect_timeout=PROBE_TIMEOUT, allow_reconnect=False, max_reconnect_attempts=0
            )
            try:
                await client.jetstream().account_info()
            finally:
                await client.close()
    except Exception:
        return False
    return True


async def _redis_ready(redis: Redis) -> bool:
    try:
        async with asyncio.timeout(PROBE_TIMEOUT):
            return bool(await redis.ping())
    except Exception:
        return False


async def healthz(_request: Request) -> JSONResponse:
    return JSONResponse({"status": "ok"})


async def readiness(db: Database, redis: Redis, nats_url: str) -> dict[str, bool]:
    servers = db.server_keys
    results = await asyncio.gather(
        *(db.ping(s, PROBE_TIMEOUT) for s in servers), _nats_ready(nats_url), _redis_ready(redis)
    )
    checks = {f"database:{s}": ok for s, ok in zip(servers, results, strict=False)}
    checks["nats"] = results[-2]
    checks["redis"] = results[-1]
    return checks


# Down, these only degrade the service: readiness stays 200 (see the module's docstring).
DEGRADED_ONLY = frozenset({"nats"})


async def readyz(request: Request) -> JSONResponse:
    state = request.app.state
    checks = await readiness(state.db, state.redis, state.settings.nats_url)
    metrics = getattr(getattr(state, "observability", None), "metrics", None)
    if metrics is not None:
        for name, ok in checks.items():
            metrics.dependency_up.labels(name).set(1 if ok else 0)
    ready = all(ok for name, ok in checks.items() if name not in DEGRADED_ONLY)
    body: dict[str, object] = {"status": "ready" if ready else "unavailable", "checks": checks}
    degraded = sorted(name for name in DEGRADED_ONLY if not checks.get(name, True))
    if degraded:
        body["degraded"] = degraded
    return JSONResponse(body, status_code=200 if ready else 503)
