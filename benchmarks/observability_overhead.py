"""What observability costs per request: N sequential small queries through the ASGI app.

Runs by hand, never in CI (timings on a shared machine are not assertions):

    .venv/bin/python benchmarks/observability_overhead.py [--requests 500] [--rounds 3]

Creates its own database `unityplan_bench_obs` on DATABASE_URL's server (default
127.0.0.1:5432), seeds the demo territories, then times the same requests through httpx's ASGI
transport (no sockets) with: everything off (metrics disabled, tracing off, logs at WARNING),
the defaults (metrics on, tracing off), metrics plus the JSON access log at INFO (to an in-memory
stream), metrics plus tracing (to an in-memory exporter), and everything on. Prints the mean per
request of the best round.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import logging
import os
import time

import httpx
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from sqlalchemy.engine import make_url

from db.demo import seed_demo
from db.engines import Database
from db.migrate import migrate_all
from db.provisioning import ensure_database
from graph.observability import Observability, ObservabilityConfig, configure_logging
from graph.server.app import create_app
from unityplan.settings import Settings

QUERY = '{ territory(id: "dk") { code name kind } }'


async def timed(settings: Settings, db: Database, observability: Observability, n: int) -> float:
    app = create_app(settings, db, observability)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
        for _ in range(20):  # warm the pools, the parser and validation caches
            await client.post("/graphql", json={"query": QUERY})
        start = time.perf_counter()
        for _ in range(n):
            response = await client.post("/graphql", json={"query": QUERY})
            assert response.status_code == 200, (response.status_code, response.text[:300])
        elapsed = time.perf_counter() - start
    observability.shutdown()
    await app.state.redis.aclose()
    return elapsed / n


async def main(requests: int, rounds: int) -> None:
    base = os.environ.get("DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
    dsn = make_url(base).set(database="unityplan_bench_obs").render_as_string(False)
    await ensure_database(dsn)
    db = Database({"main": dsn}, pool_size=5)
    await migrate_all(db)
    await seed_demo(db)
    # Rate limiting off: one client sends every request.
    settings = Settings(database_url=dsn, unityplan_env="test", rate_limit=False)
    configure_logging(settings, stream=io.StringIO())  # JSON to a null-ish stream
    root = logging.getLogger()

    def off() -> Observability:
        root.setLevel(logging.WARNING)
        return Observability(ObservabilityConfig(metrics_enabled=False))

    def defaults() -> Observability:
        root.setLevel(logging.WARNING)
        return Observability(ObservabilityConfig())

    def logs() -> Observability:
        root.setLevel(logging.INFO)
        return Observability(ObservabilityConfig())

    def tracing() -> Observability:
        root.setLevel(logging.WARNING)
        return Observability(ObservabilityConfig(), span_exporter=InMemorySpanExporter())

    def everything() -> Observability:
        root.setLevel(logging.INFO)
        return Observability(ObservabilityConfig(), span_exporter=InMemorySpanExporter())

    results: dict[str, list[float]] = {}
    try:
        for _ in range(rounds):
            for name, make in (
                ("off", off),
                ("metrics", defaults),
                ("+ logs", logs),
                ("+ traces", tracing),
                ("all on", everything),
            ):
                results.setdefault(name, []).append(await timed(settings, db, make(), requests))
    finally:
        await db.dispose()
    baseline = min(results["off"])
    for name, values in results.items():
        best = min(values)
        print(f"{name:8s} {best * 1e6:8.1f} us/request  (+{(best - baseline) * 1e6:6.1f} us)")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    asyncio.run(main(args.requests, args.rounds))
