"""Liveness and readiness: ``/healthz`` says the process runs, ``/readyz`` that it can serve."""

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


async def readyz(request: Request) -> JSONResponse:
    state = request.app.state
    checks = await readiness(state.db, state.redis, state.settings.nats_url)
    # NATS is reported, never required: mutations commit to the outbox and it drains when NATS
    # is back (issue 9 defect 8), so a NATS outage must not take replicas out of rotation.
    ready = all(ok for name, ok in checks.items() if name != "nats")
    return JSONResponse(
        {"status": "ready" if ready else "unavailable", "checks": checks},
        status_code=200 if ready else 503,
    )
