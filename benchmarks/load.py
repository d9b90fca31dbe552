"""Reproducible load test: seeded data, a small and a nested query, concurrency 1/10/100.

Runs by hand, never in CI (timings on a shared 2-core machine are not assertions):

    .venv/bin/python benchmarks/load.py [--seconds 10] [--workers 1]

It creates its own database `unityplan_bench` on DATABASE_URL's server (default 127.0.0.1:5432),
seeds territories dk and se with communities, serves the real app with uvicorn in a subprocess on a
free port, and drives it with wrk (Debian package `wrk`; else, slower, from this process with
httpx) over keep-alive connections. Prints req/s and p50/p95/p99 latency per query and
concurrency level.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import httpx
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import delete, insert
from sqlalchemy.engine import make_url

from db.demo import seed_demo
from db.engines import Database
from db.migrate import migrate_all
from db.models import communities
from db.provisioning import ensure_database
from unityplan.devservices import free_port

ROOT = Path(__file__).resolve().parent.parent
COMMUNITIES_PER_TERRITORY = 100

QUERIES = {
    "small": '{ territory(id: "dk") { code name kind } }',
    "nested": (
        "{ territories(first: 100) { nodes { code name communities(first: 100) { nodes "
        "{ id name slug visibility territory { code name } } } } } }"
    ),
}


async def seed(dsn: str) -> None:
    await ensure_database(dsn)
    db = Database({"main": dsn})
    try:
        await migrate_all(db)
        await seed_demo(db)
        for tid in ("dk", "se"):
            async with db.transaction("main", tid) as conn:
                await conn.execute(delete(communities).where(communities.c.slug.like("bench-%")))
                await conn.execute(
                    insert(communities),
                    [
                        {"id": uuid.uuid4(), "slug": f"bench-{i:04d}", "name": f"{tid} {i}"}
                        for i in range(COMMUNITIES_PER_TERRITORY)
                    ],
                )
    finally:
        await db.dispose()


WRK_SCRIPT = """
wrk.method = "POST"
wrk.body = os.getenv("UNITYPLAN_BENCH_BODY")
wrk.headers["Content-Type"] = "application/json"
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("RESULT %d %d %d %d %d %d %d %d %d\\n", summary.requests,
    summary.duration, latency:percentile(50), latency:percentile(95), latency:percentile(99),
    e.status, e.connect, e.read, e.timeout))
end
"""


def run_wrk(
    url: str, query: str, concurrency: int, seconds: float
) -> tuple[float, float, float, float]:
    """Load from wrk (C, one thread): the Python client would saturate a core before the server."""
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(WRK_SCRIPT)
    env = {**os.environ, "UNITYPLAN_BENCH_BODY": json.dumps({"query": query})}
    out = subprocess.run(
        [
            "wrk",
            "-t1",
            f"-c{concurrency}",
            f"-d{round(seconds)}s",
            "-s",
            script.name,
            f"{url}/graphql",
        ],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    os.unlink(script.name)
    line = next(x for x in out.splitlines() if x.startswith("RESULT"))
    requests, duration_us, p50, p95, p99, *errors = (int(v) for v in line.split()[1:])
    status, connect, read, timeouts = errors
    if status or connect or read:
        raise RuntimeError(f"failures: {status=} {connect=} {read=}")
    # wrk counts requests still in flight when the run ends as timeouts; they are not failures.
    del timeouts
    return requests / (duration_us / 1e6), p50 / 1000, p95 / 1000, p99 / 1000


async def drive(url: str, query: str, concurrency: int, seconds: float) -> list[float]:
    latencies: list[float] = []
    deadline = time.perf_counter() + seconds
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=url, limits=limits, timeout=30) as client:

        async def worker() -> None:
            while time.perf_counter() < deadline:
                start = time.perf_counter()
                response = await client.post("/graphql", json={"query": query})
                latencies.append(time.perf_counter() - start)
                if response.status_code != 200 or "errors" in response.json():
                    raise RuntimeError(response.text[:300])

        await asyncio.gather(*(worker() for _ in range(concurrency)))
    return latencies


def _ed25519_pem() -> str:
    key = Ed25519PrivateKey.generate()
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()


def percentile(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100)[int(q) - 1] * 1000


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--workers", type=int, default=1)
    args = parser.parse_args()

    base = os.environ.get("DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
    dsn = make_url(base).set(database="unityplan_bench").render_as_string(False)
    await seed(dsn)
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": dsn,
        "PORT": str(port),
        "WORKERS": str(args.workers),
        "UNITYPLAN_ENV": "production",
        # Throwaway secrets: production refuses to start without them.
        "IDENTITY_HASH_KEY": secrets.token_hex(32),
        "JWT_PRIVATE_KEYS": json.dumps({"bench": _ed25519_pem()}),
        # Anonymous load with inline documents, and enough budget not to measure the limiter.
        "TRUSTED_DOCUMENTS": "off",
        "RATE_LIMIT": "false",
    }
    server = subprocess.Popen(  # noqa: ASYNC220 - started once, before the measured part
        [str(Path(sys.executable).parent / "unityplan"), "serve"],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        async with httpx.AsyncClient(base_url=url) as probe:
            for _ in range(100):
                try:
                    if (await probe.get("/healthz")).status_code == 200:
                        break
                except httpx.TransportError:
                    await asyncio.sleep(0.1)
        print(f"{'query':8} {'conc':>5} {'req/s':>9} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8}")
        for name, query in QUERIES.items():
            await drive(url, query, 4, 1.0)  # warm-up (caches, pools); checks the answers
            for concurrency in (1, 10, 100):
                if shutil.which("wrk"):
                    rps, p50, p95, p99 = run_wrk(url, query, concurrency, args.seconds)
                else:
                    lat = await drive(url, query, concurrency, args.seconds)
                    rps = len(lat) / args.seconds
                    p50, p95, p99 = (percentile(lat, q) for q in (50, 95, 99))
                print(f"{name:8} {concurrency:>5} {rps:>9.1f} {p50:>8.1f} {p95:>8.1f} {p99:>8.1f}")
    finally:
        server.terminate()
        server.wait(timeout=10)


if __name__ == "__main__":
    asyncio.run(main())
