"""Forum read-path benchmark (issue 14): the nested forum shape beside a one-SQL floor.

    .venv/bin/python -m benchmarks.forums [--duration 10] [--concurrency 1,10,100] [--profile 10]
        [--native]

Runs by hand, never in CI. Seeds (afresh each run) its own database `unityplan_forums_bench` on
DATABASE_URL's server: the demo territories, then in `dk` 20 public root forums, 1,000 topics
(50 each, the first of each forum pinned), 20,000 comments (20 per topic, a third of them
replies to earlier comments), by 2,000 authors holding 2 to 4 of 6 territory badges each.
It serves THIS checkout's app with `unityplan serve` (production mode, one worker) and the floor
(benchmarks/forums_floor.py: one statement building the same JSON in PostgreSQL) with uvicorn,
checks both answer the same JSON, drives each with wrk at every concurrency (benchmarks/load.py's
machinery), counts the statements of one request, and with ``--profile S`` records the API with
py-spy for S seconds under 10 concurrent clients and prints where the time goes.

The operation, sent by a dk member with no roles or badges:

    forums(first: 20) -> topics(first: 10) -> comments(first: 10) -> author -> badges
    -> badge { id name }
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psutil
from sqlalchemy import delete, insert, text
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.engine import make_url

from benchmarks.load import (
    BIN,
    ROOT,
    Bench,
    Run,
    Server,
    Target,
    _ed25519_pem,
    _environ,
    _machine,
    _ms,
    count_statements,
    run_wrk,
    same_answers,
    settle,
    start_server,
    stop_server,
    viewer_token,
    wait_healthy,
)
from db.demo import seed_demo
from db.engines import Database
from db.migrate import migrate_all
from db.models import (
    badge_awards,
    badge_definition_versions,
    badge_definitions,
    forum_comments,
    forum_topics,
    forums,
    users,
)
from db.provisioning import ensure_database
from domain.events import new_event_id
from domain.territories import schema_name
from unityplan.devservices import free_port
from unityplan.settings import Settings

TERRITORY = "dk"
FORUMS, TOPICS_PER_FORUM, COMMENTS_PER_TOPIC = 20, 50, 20
AUTHORS, BADGES = 2000, 6
NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "unityplan:forums-bench")
SHAPE = (
    '{ forums(territory: "dk", first: 20) { nodes { id name topics(first: 10) { nodes { id '
    "title comments(first: 10) { nodes { id body author { userId badges { badge { id name } } "
    "} } } } } } } }"
)
TEXT = (
    "Soil first: we mulch the beds in October, sow broad beans under fleece, and keep a "
    "compost log so the next volunteers know what went where. Bring gloves, a flask and "
    "seeds to swap; the tool shed key hangs by the gate. Questions below, answers welcome. "
)


def _id(kind: str, n: int) -> uuid.UUID:
    return uuid.uuid5(NAMESPACE, f"{kind}:{n}")


async def seed(dsn: str) -> None:
    await ensure_database(dsn)
    db = Database({"main": dsn})
    try:
        await migrate_all(db)
        await seed_demo(db)
        start = datetime(2026, 6, 1, tzinfo=UTC)
        async with db.transaction("main", TERRITORY) as conn:
            await conn.execute(delete(forums))
            await conn.execute(
                pg_insert(users)
                .values(
                    [
                        {
                            "id": _id("author", n),
                            "username": f"forum-a{n:04d}",
                            "email": f"forum-a{n:04d}@bench.invalid",
                            "password_hash": "!",  # no password verifies against it
                            "display_name": f"Author {n:04d}",
                        }
                        for n in range(AUTHORS)
                    ]
                )
                .on_conflict_do_nothing()
            )
            badge_ids = [_id("badge", b) for b in range(BADGES)]
            await conn.execute(
                pg_insert(badge_definitions)
                .values([{"id": b, "level": "territory"} for b in badge_ids])
                .on_conflict_do_nothing()
            )
            await conn.execute(
                pg_insert(badge_definition_versions)
                .values(
                    [
                        {"definition_id": b, "version": 1, "name": f"Bench badge {i}"}
                        for i, b in enumerate(badge_ids)
                    ]
                )
                .on_conflict_do_nothing()
            )
            authors = [_id("author", n) for n in range(AUTHORS)]
            await conn.execute(delete(badge_awards).where(badge_awards.c.user_id.in_(authors)))
            await conn.execute(
                insert(badge_awards),
                [
                    {
                        "id": _id("award", n * BADGES + k),
                        "user_id": author,
                        "badge_home": TERRITORY,
                        "badge_id": badge_ids[(n + k) % BADGES],
                        "version": 1,
                        "awarded_at": start + timedelta(days=k),
                        "valid_from": start + timedelta(days=k),
                        "source": "manual",
                    }
                    for n, author in enumerate(authors)
                    for k in range(2 + n % 3)
                ],
            )
            forum_rows, topic_rows, comment_rows = [], [], []
            for f in range(FORUMS):
                forum_id = _id("forum", f)
                forum_rows.append({"id": forum_id, "name": f"Bench forum {f:02d}", "position": f})
                for t in range(TOPICS_PER_FORUM):
                    n = f * TOPICS_PER_FORUM + t
                    topic_id = _id("topic", n)
                    topic_rows.append(
                        {
                            "id": topic_id,
                            "forum_id": forum_id,
                            "title": f"Topic {n}: sowing, mending and sharing",
                            "body": TEXT,
                            "author_territory": TERRITORY,
                            "author_id": authors[n % AUTHORS],
                            "is_pinned": t == 0,
                            "last_activity_at": start + timedelta(minutes=n),
                            "comment_count": COMMENTS_PER_TOPIC,
                        }
                    )
                    replies = 6 if n % 3 == 0 else 7  # a third of all comments
                    tops: list[tuple[uuid.UUID, str]] = []
                    for c in range(COMMENTS_PER_TOPIC):
                        comment_id = new_event_id()
                        author = authors[(n * COMMENTS_PER_TOPIC + c) % AUTHORS]
                        body = f"Comment {c} on topic {n}. {TEXT}"
                        if c < COMMENTS_PER_TOPIC - replies:
                            parent, path, depth = None, comment_id.hex, 0
                            tops.append((comment_id, path))
                        else:
                            parent_id, parent_path = tops[c % len(tops)]
                            parent, path, depth = parent_id, f"{parent_path}/{comment_id.hex}", 1
                        comment_rows.append(
                            {
                                "id": comment_id,
                                "topic_id": topic_id,
                                "parent_id": parent,
                                "path": path,
                                "depth": depth,
                                "body": body,
                                "author_territory": TERRITORY,
                                "author_id": author,
                            }
                        )
            await conn.execute(insert(forums), forum_rows)
            await conn.execute(insert(forum_topics), topic_rows)
            for i in range(0, len(comment_rows), 5000):
                await conn.execute(insert(forum_comments), comment_rows[i : i + 5000])
        async with db.transaction("main") as conn:
            schema = schema_name(TERRITORY)
            for table in (forums, forum_topics, forum_comments, users, badge_awards):
                await conn.execute(text(f'ANALYZE "{schema}"."{table.name}"'))
    finally:
        await db.dispose()


# --- profile


LAYERS = (
    ("graphql-core", "graphql/"),
    ("strawberry", "strawberry/"),
    ("sqlalchemy", "sqlalchemy/"),
    ("asyncpg", "asyncpg/"),
    ("asyncio event loop (incl. uvloop's C code)", "asyncio/"),
    ("uvicorn / starlette / httptools", "uvicorn/"),
    ("uvicorn / starlette / httptools", "starlette/"),
    ("project code", "graph/"),
    ("project code", "db/"),
    ("project code", "domain/"),
    ("project code", "resolvers/"),
)


STAGES = (
    ("SQL statements and rows (loaders' batches)", "dispatch_queue_batch"),
    ("  of which rows to records (db/)", "db/forums/reads.py"),
    ("topic and comment pages to objects (graph/types)", "connection (graph/types/relay.py"),
    ("authors' badges (graph/types/forums/authors.py)", "badges_of (graph/types/forums"),
    ("GraphQL execution (graph/level_execution.py)", "graph/level_execution.py"),
    ("response to JSON (graph/server/transport.py _render)", "_render (graph/server/transport"),
    ("dropping the request's reads (Loaders.close)", "close (graph/loaders/request.py"),
)
"""Where a request's time goes, each stage with everything it calls (a frame marker each)."""


def _where(frame: str) -> str:
    """The file of a py-spy frame ``function (path/file.py:line)``, relative to site-packages
    or the checkout."""
    where = frame.rsplit(" (", 1)[-1].rstrip(")")
    for root in ("site-packages/", f"{ROOT}/", "/python3.11/"):
        if root in where:
            where = where.split(root, 1)[1]
    return where


def _category(frame: str) -> str:
    """Which layer a frame belongs to; generated code (``<string>``: dataclass and named-tuple
    methods such as graphql-core's resolve info) and the rest are "other"."""
    where = _where(frame)
    for name, prefix in LAYERS:
        if where.startswith(prefix):
            return name
    return "other (generated code, stdlib)"


def _function(frame: str) -> str:
    """A frame without its line number: self time per function, not per line."""
    name, _, where = frame.rpartition(" (")
    return f"{name} ({_where(frame).rsplit(':', 1)[0]})" if where else frame


def profile(api: Server, target: Target, seconds: float, *, native: bool = False) -> None:
    """py-spy under 10 clients: self time by layer and the hottest functions."""
    spy = BIN / "py-spy"
    if not spy.exists() and shutil.which("py-spy") is None:
        print("\n(py-spy missing: pip install py-spy into the venv for a profile)")
        return
    with tempfile.NamedTemporaryFile(suffix=".txt", delete=False) as out:
        path = Path(out.name)
    record = subprocess.Popen(
        [
            str(spy if spy.exists() else "py-spy"),
            *("record", "--pid", str(api.process.pid), "--subprocesses"),
            *("--duration", str(round(seconds)), "--rate", "250", "--format", "raw"),
            *("--output", str(path)),
            # Native frames need the process paused per sample; else sample without pausing.
            *(("--native",) if native else ("--nonblocking",)),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    run = run_wrk(target, 10, seconds)
    _, err = record.communicate(timeout=seconds + 60)
    settle(api)
    if record.returncode or not path.exists():
        print(f"\n(py-spy failed: {err.decode(errors='replace')[-500:]})")
        return
    by_layer: Counter[str] = Counter()
    by_function: Counter[str] = Counter()
    by_stage: Counter[str] = Counter()
    total = 0
    for line in path.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        frames = stack.split(";")
        n = int(count)
        total += n
        by_layer[_category(frames[-1])] += n
        by_function[_function(frames[-1])] += n
        for stage, marker in STAGES:
            if any(marker in frame for frame in frames):
                by_stage[stage] += n
    path.unlink(missing_ok=True)
    print(f"\nProfile: py-spy, {round(seconds)} s at c=10 ({run.rps:,.1f} req/s), {total} samples")
    print("\n| layer (self time) | share |")
    print("|---|---:|")
    for layer, n in by_layer.most_common():
        print(f"| {layer} | {100 * n / max(total, 1):.1f}% |")
    print("\n| stage (inclusive: samples with it on the stack) | share |")
    print("|---|---:|")
    for stage, _ in STAGES:
        print(f"| {stage} | {100 * by_stage[stage] / max(total, 1):.1f}% |")
    print("\n| hottest functions (self time) | share |")
    print("|---|---:|")
    for frame, n in by_function.most_common(15):
        print(f"| `{frame[:110]}` | {100 * n / max(total, 1):.1f}% |")


# --- main


def _table(results: dict[int, tuple[Run, Run]], statements: int, size: int) -> None:
    print(
        "| c | floor req/s | API req/s | API x floor | floor p50 / p95 / p99 ms "
        "| API p50 / p95 / p99 ms | API responses not OK | statements per request |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|---:|")
    for i, (c, (floor, api)) in enumerate(results.items()):
        ratio = f"{floor.rps / api.rps:,.2f}" if api.rps else "none answered"
        print(
            f"| {c} | {floor.rps:,.1f} | {api.rps:,.1f} | {ratio} | {_ms(floor)} | {_ms(api)} "
            f"| {api.not_ok} ({api.outcome_text()}) | {statements if i == 0 else ''} |"
        )
    print(f"\nResponse: {size:,} bytes.")


async def run(args: argparse.Namespace) -> None:
    base = os.environ.get("DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
    dsn = make_url(base).set(database="unityplan_forums_bench").render_as_string(False)
    print("seeding...", file=sys.stderr, flush=True)
    await seed(dsn)
    private_pem, public_pem = _ed25519_pem()
    api_port, floor_port = free_port(), free_port()
    values: dict[str, Any] = {
        "database_url": dsn,
        "redis_url": os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"),
        "redis_key_prefix": f"unityplan-forums-bench-{os.getpid()}:",
        "host": "127.0.0.1",
        "port": api_port,
        "workers": 1,
        "unityplan_env": "production",
        "identity_hash_key": secrets.token_hex(32),
        "jwt_private_keys": {"bench": private_pem},
        "trusted_documents": "off",
        "rate_limit": False,
        "access_token_ttl_seconds": 24 * 3600,
        "max_query_cost": 1_000_000,
    }
    settings = Settings(**values)
    env = {**os.environ, **_environ(values), "PYTHONPATH": str(ROOT)}
    api = start_server("api", [str(BIN / "unityplan"), "serve"], env, api_port)
    floor_env = {
        **env,
        "FLOOR_DSN": dsn,
        "FLOOR_TERRITORY": TERRITORY,
        "FLOOR_JWT_PUBLIC_KEY": public_pem,
        "FLOOR_JWT_ISSUER": settings.jwt_issuer,
        "FLOOR_JWT_AUDIENCE": settings.jwt_audience,
        "FLOOR_POOL_SIZE": str(settings.database_pool_size),
    }
    floor = start_server(
        "floor",
        [
            *(sys.executable, "-m", "uvicorn", "forums_floor:app", "--factory"),
            *("--app-dir", str(ROOT / "benchmarks"), "--host", "127.0.0.1"),
            *("--port", str(floor_port), "--workers", "1"),
            *("--log-level", "warning", "--no-access-log"),
        ],
        floor_env,
        floor_port,
    )
    try:
        await wait_healthy(floor)
        await wait_healthy(api)
        bench = Bench(api, floor, settings, env)
        bench.token = await viewer_token(api, env)
        headers = {
            "Content-Type": "application/json",
            "Authorization": f"Bearer {bench.token}",
        }
        body = json.dumps({"query": SHAPE})
        api_target = Target(f"{api.url}/graphql", body, headers)
        floor_target = Target(f"{floor.url}/forums", body, headers)
        size = await same_answers(api_target, floor_target)
        counted = (await count_statements(settings, {"forums": api_target}))["forums"]
        print(f"Started {datetime.now(UTC):%Y-%m-%d %H:%M} UTC; {_machine()}", flush=True)
        for target, server in ((floor_target, floor), (api_target, api)):
            run_wrk(target, 10, 2)  # warm-up
            settle(server)
        results: dict[int, tuple[Run, Run]] = {}
        cpu: dict[int, tuple[float, float]] = {}
        for c in args.concurrency:
            floor_cpu = _cpu_seconds(floor)
            floor_run = run_wrk(floor_target, c, args.duration)
            floor_run.busy_after = settle(floor)
            floor_cpu = _cpu_seconds(floor) - floor_cpu
            api_cpu = _cpu_seconds(api)
            api_run = run_wrk(api_target, c, args.duration, timeout=args.duration + 120)
            api_run.busy_after = settle(api)
            api_cpu = _cpu_seconds(api) - api_cpu
            results[c] = (floor_run, api_run)
            cpu[c] = (
                1000 * floor_cpu / max(floor_run.requests, 1),
                1000 * api_cpu / max(api_run.requests, 1),
            )
            print(
                f"  c={c}: floor {floor_run.rps:,.1f} req/s, API {api_run.rps:,.1f} req/s",
                file=sys.stderr,
                flush=True,
            )
        print(f"\nforums shape, one worker each, {round(args.duration)} s per cell; {_machine()}\n")
        _table(results, counted.total, size)
        print(
            "\nServer process CPU per request (ms, its own process only: PostgreSQL's work is "
            "apart): "
            + "; ".join(f"c={c}: floor {f:.1f}, API {a:.1f}" for c, (f, a) in cpu.items())
            + f". API resident memory after the runs: {_rss_mib(api):.0f} MiB."
        )
        print(f"\nStatements of one request (warm caches): {counted.total}: {counted.detail()}")
        if args.profile:
            profile(api, api_target, args.profile, native=args.native)
    finally:
        for server in (api, floor):
            stop_server(server)


def _cpu_seconds(server: Server) -> float:
    """User and system CPU of a server's process and its children (uvicorn's worker)."""
    root = psutil.Process(server.process.pid)
    total = 0.0
    for process in (root, *root.children(recursive=True)):
        try:
            times = process.cpu_times()
        except psutil.NoSuchProcess:
            continue
        total += times.user + times.system
    return total


def _rss_mib(server: Server) -> float:
    root = psutil.Process(server.process.pid)
    processes = (root, *root.children(recursive=True))
    return sum(p.memory_info().rss for p in processes) / 2**20


def options() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=10, help="seconds per cell and target")
    parser.add_argument("--concurrency", default="1,10,100", help="comma-separated levels")
    parser.add_argument(
        "--profile", type=float, default=10, help="seconds of py-spy at c=10; 0: none"
    )
    parser.add_argument(
        "--native",
        action="store_true",
        help="profile C frames too (uvloop, asyncpg's decoding, the garbage collector)",
    )
    args = parser.parse_args()
    args.concurrency = [int(c) for c in args.concurrency.split(",")]
    if shutil.which("wrk") is None:
        parser.error("wrk is missing: apt-get install wrk")
    return args


if __name__ == "__main__":
    asyncio.run(run(options()))
