"""Liveness and readiness: ``/healthz`` says the process runs, ``/readyz`` that it can serve.

Readiness fails only for what serving needs: every database server, and Redis (login throttling
cannot work without it). NATS carries events out of the outbox (written in PostgreSQL, relayed
later) and no request waits for it, so NATS down is *degraded*: named in the JSON under
``degraded`` and in ``/metrics`` (``dependency_up{dependency="nats"} 0``), while the instance
stays in the load balancer. Failing readiness for it would take every healthy instance out at
once, as all of them share the one NATS. When subscriptions come to depend on NATS, a NATS outage
will cost live updates (subscriptions end or stall), still not queries or mutations. The IPFS
node is degraded-only for the same reason: without it uploads and file downloads fail
(``STORAGE_UNAVAILABLE``), everything else is served.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

import nats
from redis.asyncio import Redis
from starlette.requests import Request
from starlette.responses import JSONResponse

from db.engines import Database

if TYPE_CHECKING:
    from files.storage import FileStorage

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


async def _ipfs_ready(storage: FileStorage | None) -> bool:
    if storage is None:
        return True
    try:
        async with asyncio.timeout(PROBE_TIMEOUT):
            return await storage.node.ready()
    except TimeoutError:
        return False


async def readiness(
    db: Database, redis: Redis, nats_url: str, storage: FileStorage | None = None
) -> dict[str, bool]:
    servers = db.server_keys
    results = await asyncio.gather(
        *(db.ping(s, PROBE_TIMEOUT) for s in servers),
        _nats_ready(nats_url),
        _redis_ready(redis),
        _ipfs_ready(storage),
    )
    checks = {f"database:{s}": ok for s, ok in zip(servers, results, strict=False)}
    checks["nats"] = results[-3]
    checks["redis"] = results[-2]
    checks["ipfs"] = results[-1]
    return checks


# Down, these only degrade the service: readiness stays 200 (see the module's docstring).
DEGRADED_ONLY = frozenset({"nats", "ipfs"})


async def readyz(request: Request) -> JSONResponse:
    state = request.app.state
    checks = await readiness(
        state.db, state.redis, state.settings.nats_url, getattr(state, "storage", None)
    )
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
