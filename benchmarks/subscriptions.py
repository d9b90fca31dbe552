"""GraphQL subscription benchmark: commit -> outbox -> relay -> JetStream -> fan-out ->
per-event authorization -> graphql-transport-ws -> WebSocket client.

Runs by hand, never in CI (timings on a shared 2-core machine are not assertions):

    .venv/bin/python -m benchmarks.subscriptions [--rate 20] [--seconds 10] [--subscribers 100]

What benchmarks/event_pipeline.py leaves out: the GraphQL layer. It creates its own database
`unityplan_bench_events` on DATABASE_URL's server (as event_pipeline.py does), a public community
in dk, its own nats-server, and serves THIS checkout's app (relay included, as `unityplan serve`
runs it) under uvicorn in a thread of this process. SUBSCRIBERS anonymous WebSocket clients
follow `communityActivity` of that community; this process commits RATE member_role_changed
events per second, each in its own transaction. Every delivery costs the server one session check
and one fresh community read (the per-event authorization), so the figures scale with
subscribers x rate, not with the rate alone. Prints commit-to-client latency p50/p95/p99 (from
the event's occurredAt, set just before its commit) and deliveries per second. The clients share
this process (and its GIL) with the server: the figures are an upper bound of the server's cost.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy.engine import make_url
from websockets.asyncio.client import ClientConnection, connect

from benchmarks.event_pipeline import prepare, start_nats
from db import communities as community_db
from db import events as outbox_db
from domain.communities import CommunityRole
from domain.events import CommunityMemberRoleChanged, seal
from graph import ids
from graph.server.app import create_app
from tests.live import serve
from unityplan.settings import Settings

TERRITORY = "dk"
QUERY = "subscription($id: ID!) { communityActivity(communityId: $id) { id kind occurredAt } }"


async def until(condition: Callable[[], bool], timeout: float) -> None:
    """Poll ``condition`` (state of the server's thread, or of the clients) up to ``timeout`` s."""
    deadline = time.monotonic() + timeout
    while True:
        if condition() or time.monotonic() > deadline:
            return
        await asyncio.sleep(0.05)


async def follow(url: str, community: str, latencies: list[float], ready: asyncio.Event) -> None:
    ws: ClientConnection
    async with connect(url, subprotocols=["graphql-transport-ws"], max_queue=None) as ws:  # type: ignore[list-item]
        await ws.send(json.dumps({"type": "connection_init", "payload": {}}))
        await ws.recv()
        payload = {"query": QUERY, "variables": {"id": community}}
        await ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": payload}))
        ready.set()
        async for raw in ws:
            message = json.loads(raw)
            if message.get("type") != "next":
                print("subscription ended:", message)
                return
            occurred = datetime.fromisoformat(
                message["payload"]["data"]["communityActivity"]["occurredAt"]
            )
            latencies.append((datetime.now(UTC) - occurred).total_seconds() * 1000)


async def run(args: argparse.Namespace) -> None:
    base = os.environ.get("DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
    dsn = make_url(base).set(database="unityplan_bench_events").render_as_string(False)
    db = await prepare(dsn)
    async with db.transaction("main", TERRITORY) as conn:
        record = await community_db.create_community(
            conn,
            TERRITORY,
            slug=f"bench-{uuid.uuid4().hex[:8]}",
            name="Bench",
            description="",
            is_public=True,
            creator=None,
        )
    community = ids.encode("Community", TERRITORY, str(record.id))
    with tempfile.TemporaryDirectory() as directory:
        nats_proc, nats_url = start_nats(Path(directory))
        settings = Settings(
            database_url=dsn,
            database_servers={},
            nats_url=nats_url,
            redis_url=os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"),
            redis_key_prefix=f"unityplan-bench-subs-{os.getpid()}:",
            rate_limit=False,
            events_subscriber_queue_size=10_000,
            events_sweep_interval_seconds=1.0,
            log_level="WARNING",
        )
        app = create_app(settings)
        with serve(app) as http_url:
            await until(lambda: app.state.events.link.is_connected, 30)
            url = http_url.replace("http://", "ws://") + "/graphql"
            latencies: list[float] = []
            readies = [asyncio.Event() for _ in range(args.subscribers)]
            clients = [asyncio.create_task(follow(url, community, latencies, r)) for r in readies]
            for ready in readies:
                await ready.wait()
            await until(lambda: app.state.events.fanout.subscriber_count() >= args.subscribers, 60)
            total = int(args.rate * args.seconds)
            expected = total * args.subscribers
            started = time.monotonic()
            for index in range(total):
                delay = started + index / args.rate - time.monotonic()
                if delay > 0:
                    await asyncio.sleep(delay)
                event = CommunityMemberRoleChanged(
                    territory_id=TERRITORY,
                    community_id=record.id,
                    user_id=uuid.uuid4(),
                    role=CommunityRole.MODERATOR,
                    previous_role=CommunityRole.MEMBER,
                )
                envelope = seal(event, actor=None, node_id=ids.encode)
                async with db.transaction("main", TERRITORY) as conn:
                    await outbox_db.insert_events(conn, TERRITORY, [envelope])
            commit_seconds = time.monotonic() - started
            await until(lambda: len(latencies) >= expected, 120)
            elapsed = time.monotonic() - started
            for task in clients:
                task.cancel()
            for task in clients:
                with contextlib.suppress(BaseException):
                    await task
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
                "deliveries": len(latencies),
                "expected_deliveries": expected,
                "deliveries_per_second": round(len(latencies) / elapsed, 1),
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
    parser.add_argument("--rate", type=float, default=20.0, help="events committed per second")
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--subscribers", type=int, default=100)
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
