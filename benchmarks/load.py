"""Read-path load test (issue 8): each shape's API figures beside a floor measured in the same run.

Runs by hand, never in CI (timings on a shared 2-core machine are not assertions):

    .venv/bin/python -m benchmarks.load [--duration 10] [--concurrency 1,10,100]
        [--shapes small,flat,nested] [--workers 1]
    .venv/bin/python -m benchmarks.load --burst 10      # issue 8's overload check

Needs wrk (Debian package `wrk`) and the services of .run/services.env (PostgreSQL, Redis). Run
it with `-m` from the checkout to measure: a venv's editable install may point at another one.

It creates its own database `unityplan_bench` on DATABASE_URL's server (default 127.0.0.1:5432)
and seeds it idempotently: the demo territories, 100 public communities in dk, and 20 members in
each (2,000 accounts with PUBLIC profiles). It registers a fresh dk account through an invitation
from `unityplan invitation bootstrap`, the way an operator onboards someone, for the nested
shape's viewer. It serves THIS checkout's app with `unityplan serve` (production mode, one worker
by default) and the floor (benchmarks/floor.py: one hand-written SQL statement per shape) with
uvicorn in the same settings, checks that both return the same JSON, then drives each with wrk
over keep-alive connections, floor and API one after the other for each cell. It counts the
statements one request of each shape sends to PostgreSQL by running the same app in this process
with statement listeners. Everything it starts is stopped at the end.

The report is a markdown table per shape and concurrency: req/s and p50/p95/p99 of the floor and
the API, the ratio (floor req/s over API req/s: how many times slower the API is), responses that
were not a complete 200, how long the API kept working on what it had accepted once wrk stopped
(each run waits for both servers to be idle before the next starts), and statements per request
(every statement PostgreSQL executes, BEGIN and ROLLBACK included; pool pings, which are empty
queries, are listed apart).

``--burst N``: 100 clients send the nested shape for N seconds, then ONE small request is timed
right after the burst ends; prints the burst's responses by HTTP status and error code, how long
the API stayed busy, and the log records it wrote meanwhile, by level.
"""

from __future__ import annotations

import argparse
import asyncio
import difflib
import json
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from redis.asyncio import Redis
from sqlalchemy import delete, event, select, text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine

import graph
from db.demo import seed_demo
from db.engines import Database
from db.migrate import migrate_all
from db.models import communities, community_memberships, profiles, users
from db.provisioning import ensure_database
from domain.code_of_conduct import CURRENT_VERSION as COC_VERSION
from domain.territories import schema_name
from graph.server.app import create_app
from unityplan.devservices import free_port
from unityplan.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
TERRITORY = "dk"
COMMUNITIES = 100
MEMBERS_PER_COMMUNITY = 20
PASSWORD = "bench viewer passphrase 42"
FEW = 20  # answers in a run below which its percentiles say little
SEED_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "unityplan:bench")

SHAPES: dict[str, str] = {
    "small": '{ territory(id: "dk") { code name kind } }',
    "flat": '{ communities(territory: "dk", first: 100) { nodes { slug name visibility } } }',
    "nested": (
        '{ communities(territory: "dk", first: 100) { nodes { slug name visibility '
        "members(first: 20) { nodes { role profile { displayName bio } } } } } }"
    ),
}
AUTHENTICATED = {"nested"}  # shapes sent with the dk viewer's access token

REGISTER = """mutation($input: RegisterInput!) { register(input: $input) { id } }"""
LOGIN = """mutation($input: LoginInput!) { login(input: $input) { accessToken } }"""
ACCEPT = """mutation($input: AcceptCodeOfConductInput!) {
  acceptCodeOfConduct(input: $input) { renewed }
}"""


# --- seed


def _seed_id(kind: str, n: int) -> uuid.UUID:
    return uuid.uuid5(SEED_NAMESPACE, f"{TERRITORY}:{kind}:{n}")


async def seed(dsn: str) -> None:
    """Demo territories plus the bench communities and members; the same rows on every run."""
    await ensure_database(dsn)
    db = Database({"main": dsn})
    try:
        await migrate_all(db)
        await seed_demo(db)
        slugs = [f"bench-{i:04d}" for i in range(COMMUNITIES)]
        async with db.transaction("main", TERRITORY) as conn:
            await conn.execute(
                delete(communities).where(
                    communities.c.slug.like("bench-%"), communities.c.slug.not_in(slugs)
                )
            )
            upsert = insert(communities)
            await conn.execute(
                upsert.on_conflict_do_update(
                    index_elements=["slug"],
                    set_={"name": upsert.excluded.name, "is_public": True},
                ),
                [
                    {"id": _seed_id("community", i), "slug": slug, "name": f"Bench {i:04d}"}
                    for i, slug in enumerate(slugs)
                ],
            )
            by_slug = dict(
                (
                    await conn.execute(
                        select(communities.c.slug, communities.c.id).where(
                            communities.c.slug.in_(slugs)
                        )
                    )
                ).all()
            )
            people = range(COMMUNITIES * MEMBERS_PER_COMMUNITY)
            await conn.execute(
                insert(users).on_conflict_do_nothing(),
                [
                    {
                        "id": _seed_id("user", n),
                        "username": f"bench-m{n:04d}",
                        "email": f"bench-m{n:04d}@bench.invalid",
                        "password_hash": "!",  # no password verifies against it
                        "display_name": f"Bench Member {n:04d}",
                    }
                    for n in people
                ],
            )
            profile = insert(profiles)
            await conn.execute(
                profile.on_conflict_do_update(
                    index_elements=["user_id"],
                    set_={"bio": profile.excluded.bio, "visibility": profile.excluded.visibility},
                ),
                [
                    {
                        "user_id": _seed_id("user", n),
                        "bio": f"Member {n}: grows beans, mends bikes.",
                        "visibility": "public",
                    }
                    for n in people
                ],
            )
            await conn.execute(
                delete(community_memberships).where(
                    community_memberships.c.community_id.in_(list(by_slug.values()))
                )
            )
            start = datetime(2026, 1, 1, tzinfo=UTC)
            roles = ["admin", "moderator"] + ["member"] * (MEMBERS_PER_COMMUNITY - 2)
            await conn.execute(
                insert(community_memberships),
                [
                    {
                        "community_id": by_slug[slug],
                        "user_id": _seed_id("user", i * MEMBERS_PER_COMMUNITY + j),
                        "role": roles[j],
                        "joined_at": start + timedelta(minutes=j),
                    }
                    for i, slug in enumerate(slugs)
                    for j in range(MEMBERS_PER_COMMUNITY)
                ],
            )
        # Plans as autovacuum would leave them; fresh rows without statistics plan seq scans.
        async with db.transaction("main") as conn:
            schema = schema_name(TERRITORY)
            for table in (communities, users, profiles, community_memberships):
                await conn.execute(text(f'ANALYZE "{schema}"."{table.name}"'))
    finally:
        await db.dispose()


# --- servers


def _ed25519_pem() -> tuple[str, str]:
    """A throwaway signing key: (private PEM for the API, public PEM for the floor)."""
    key = Ed25519PrivateKey.generate()
    private = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    public = (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    return private, public


def _environ(values: dict[str, Any]) -> dict[str, str]:
    """Settings fields as the environment variables a child process reads."""
    return {k.upper(): v if isinstance(v, str) else json.dumps(v) for k, v in values.items()}


@dataclass
class Server:
    name: str
    url: str
    process: subprocess.Popen[bytes]
    log: Path

    def log_lines(self) -> int:
        with self.log.open("rb") as f:
            return sum(1 for _ in f)


def start_server(name: str, command: Sequence[str], env: dict[str, str], port: int) -> Server:
    log = Path(tempfile.mkstemp(prefix=f"unityplan-bench-{name}-", suffix=".log")[1])
    with log.open("wb") as out:
        process = subprocess.Popen(command, env=env, cwd=ROOT, stdout=out, stderr=out)
    return Server(name, f"http://127.0.0.1:{port}", process, log)


async def wait_healthy(server: Server) -> None:
    async with httpx.AsyncClient(base_url=server.url) as probe:
        for _ in range(300):
            if server.process.poll() is not None:
                break
            try:
                if (await probe.get("/healthz")).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.1)
    tail = server.log.read_text(errors="replace")[-3000:]
    raise RuntimeError(f"{server.name} did not start; its log ends with:\n{tail}")


def stop_server(server: Server) -> None:
    server.process.terminate()
    try:
        server.process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        server.process.kill()
        server.process.wait()
    server.log.unlink(missing_ok=True)


def _cpu_seconds(pid: int) -> float:
    """CPU time used so far by ``pid`` and its children (uvicorn's workers), from /proc."""
    total = 0.0
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        total = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        for children in Path(f"/proc/{pid}/task").glob("*/children"):
            total += sum(_cpu_seconds(int(child)) for child in children.read_text().split())
    except (FileNotFoundError, ProcessLookupError):
        pass
    return total


def settle(server: Server, *, limit: float = 600) -> float:
    """Wait until the server is idle; returns the seconds that took.

    wrk drops its connections when a run ends, but the server still finishes what it accepted:
    the next run must not share the cores with that backlog, and how long it lasts is itself a
    measure of overload (issue 8: "served nothing for 30 s after the load stopped").
    """
    started = time.perf_counter()
    window, report = 0.25, 30.0
    while (elapsed := time.perf_counter() - started) < limit:
        if elapsed >= report:
            print(f"  {server.name} still busy after {elapsed:.0f} s", file=sys.stderr, flush=True)
            report += 30
        before = _cpu_seconds(server.process.pid)
        time.sleep(window)
        if _cpu_seconds(server.process.pid) - before < 0.05 * window:
            break
    return time.perf_counter() - started


# --- the viewer


async def viewer_token(api: Server, env: dict[str, str]) -> str:
    """A fresh dk member: an invitation from the CLI, then register and log in over HTTP."""
    proc = await asyncio.create_subprocess_exec(
        str(BIN / "unityplan"),
        *("invitation", "bootstrap", TERRITORY, "--role", "member"),
        env=env,
        cwd=ROOT,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await proc.communicate()
    if proc.returncode:
        raise RuntimeError(f"invitation bootstrap failed: {err.decode()[-2000:]}")
    username = f"bench-viewer-{uuid.uuid4().hex[:10]}"
    async with httpx.AsyncClient(base_url=api.url, timeout=30) as client:
        registered = await client.post(
            "/graphql",
            json={
                "query": REGISTER,
                "variables": {
                    "input": {
                        "invitationToken": out.decode().strip(),
                        "username": username,
                        "email": f"{username}@bench.invalid",
                        "password": PASSWORD,
                    }
                },
            },
        )
        if "errors" in registered.json():
            raise RuntimeError(f"register failed: {registered.text[:500]}")
        token = await _login(client, username)
        # Nearly everything waits for the Code of Conduct; a token issued after accepting it
        # carries the claim.
        accepted = await client.post(
            "/graphql",
            json={"query": ACCEPT, "variables": {"input": {"version": COC_VERSION}}},
            headers={"Authorization": f"Bearer {token}"},
        )
        if "errors" in accepted.json():
            raise RuntimeError(f"acceptCodeOfConduct failed: {accepted.text[:500]}")
        return await _login(client, username)


async def _login(client: httpx.AsyncClient, username: str) -> str:
    logged = await client.post(
        "/graphql",
        json={
            "query": LOGIN,
            "variables": {
                "input": {"identifier": username, "password": PASSWORD, "territory": TERRITORY}
            },
        },
    )
    body = logged.json()
    if "errors" in body:
        raise RuntimeError(f"login failed: {logged.text[:500]}")
    return str(body["data"]["login"]["accessToken"])


# --- one answer of each target


@dataclass
class Target:
    """Where one shape is sent, and with what."""

    url: str
    body: str
    headers: dict[str, str]


async def complete(target: Target) -> httpx.Response:
    """The target's answer, which must be a 200 without errors."""
    async with httpx.AsyncClient(timeout=120) as client:
        response = await client.post(target.url, content=target.body, headers=target.headers)
    if response.status_code != 200 or "errors" in response.json():
        raise RuntimeError(f"{target.url}: {response.status_code} {response.text[:500]}")
    return response


async def same_answers(api: Target, floor: Target) -> int:
    """Both targets answer the shape with the same JSON; returns its size in bytes."""
    api_answer, floor_answer = await complete(api), await complete(floor)
    if api_answer.json() != floor_answer.json():
        api_lines, floor_lines = (
            json.dumps(answer.json(), indent=1, sort_keys=True).splitlines()
            for answer in (api_answer, floor_answer)
        )
        diff = difflib.unified_diff(api_lines, floor_lines, "API", "floor", n=2, lineterm="")
        raise RuntimeError("API and floor disagree:\n" + "\n".join(list(diff)[:40]))
    return len(api_answer.content)


# --- wrk

WRK_SCRIPT = """
wrk.method = "POST"
wrk.body = os.getenv("BENCH_BODY")
for name, value in string.gmatch(os.getenv("BENCH_HEADERS"), "([^\\t\\n]+)\\t([^\\n]+)\\n") do
  wrk.headers[name] = value
end
local threads = {}
function setup(thread) table.insert(threads, thread) end
function init(args) outcomes = {} end
function response(status, headers, body)
  local key = tostring(status)
  if string.find(body, '"errors"', 1, true) then
    key = key .. "|" .. (string.match(body, '"code"%s*:%s*"([%u_]+)"') or "error")
  end
  outcomes[key] = (outcomes[key] or 0) + 1
end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("RESULT %d %d %d %d %d %d %d %d %d %d\\n", summary.requests,
    summary.duration, latency:percentile(50), latency:percentile(95), latency:percentile(99),
    latency.max, e.status, e.connect, e.read, e.timeout))
  for _, thread in ipairs(threads) do
    for key, n in pairs(thread:get("outcomes")) do
      io.write(string.format("OUTCOME %s %d\\n", key, n))
    end
  end
end
"""


@dataclass
class Run:
    requests: int
    rps: float
    p50: float
    p95: float
    p99: float
    max: float
    outcomes: Counter[str] = field(default_factory=Counter)
    socket_errors: dict[str, int] = field(default_factory=dict)
    busy_after: float = 0.0  # seconds the server kept working once the run ended

    @property
    def not_ok(self) -> int:
        """Responses other than a 200 without errors, plus connect, read and timeout errors."""
        bad = sum(n for key, n in self.outcomes.items() if key != "200")
        return bad + sum(self.socket_errors.values())

    def outcome_text(self) -> str:
        parts = [f"{n} x {key.replace('|', ' ')}" for key, n in self.outcomes.most_common()]
        parts += [f"{n} {kind} errors" for kind, n in self.socket_errors.items() if n]
        return ", ".join(parts) or "none"


def run_wrk(target: Target, concurrency: int, seconds: float, *, timeout: float = 60) -> Run:
    """wrk (C, one thread): a Python client would saturate a core before the server does.

    ``timeout`` is wrk's per-request limit; slower answers would be left out of its latency
    histogram, so it is far above any latency expected here.
    """
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(WRK_SCRIPT)
    env = {
        **os.environ,
        "BENCH_BODY": target.body,
        "BENCH_HEADERS": "\n".join(f"{k}\t{v}" for k, v in target.headers.items()) + "\n",
    }
    try:
        out = subprocess.run(
            [
                "wrk",
                "-t1",
                f"-c{concurrency}",
                f"-d{max(1, round(seconds))}s",
                f"--timeout={round(timeout)}s",
                "-s",
                script.name,
                target.url,
            ],
            env=env,
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    finally:
        os.unlink(script.name)
    lines = out.splitlines()
    result = next(x for x in lines if x.startswith("RESULT")).split()[1:]
    requests, duration_us, p50, p95, p99, worst, status, connect, read, timeouts = map(int, result)
    outcomes: Counter[str] = Counter()
    for line in lines:
        if line.startswith("OUTCOME "):
            _, key, n = line.split()
            outcomes[key] += int(n)
    # wrk's `status` errors are the non-2xx responses, already in `outcomes` by code.
    del status
    if sum(outcomes.values()) != requests:
        raise RuntimeError(f"wrk classified {sum(outcomes.values())} of {requests} responses")
    return Run(
        requests=requests,
        rps=requests / (duration_us / 1e6),
        p50=p50 / 1000,
        p95=p95 / 1000,
        p99=p99 / 1000,
        max=worst / 1000,
        outcomes=outcomes,
        socket_errors={"connect": connect, "read": read, "timeout": timeouts},
    )


# --- statements per request


@dataclass
class Statements:
    """What PostgreSQL received for one request: SQL statements through SQLAlchemy, the
    transaction control and pool pings asyncpg sends by itself, and pool checkouts."""

    sql: Counter[str] = field(default_factory=Counter)
    control: Counter[str] = field(default_factory=Counter)
    checkouts: int = 0

    @property
    def total(self) -> int:
        """Every statement PostgreSQL executes; pool pings (empty queries) are not counted."""
        return sum(self.sql.values()) + sum(n for k, n in self.control.items() if k != "ping")

    def detail(self) -> str:
        parts = [f"{n} {kind}" for kind, n in (self.sql + self.control).most_common()]
        return ", ".join(parts) + f"; pool checkouts: {self.checkouts}"


class StatementCounter:
    """Listens on every engine and connection of a Database while ``counting``."""

    def __init__(self) -> None:
        self.current = Statements()
        self.counting = False

    def statement(self, _server: str, sql: str) -> None:
        if self.counting:
            self.current.sql[sql.lstrip().split(None, 1)[0].upper()] += 1

    def query(self, record: Any) -> None:
        """asyncpg's query logger: statements it sends outside prepared statements."""
        if self.counting:
            text = record.query.strip().rstrip(";").strip()
            self.current.control["ping" if not text else text.split(None, 1)[0].upper()] += 1

    def engine(self, _server: str, engine: AsyncEngine) -> None:
        def connected(dbapi_connection: Any, _record: Any) -> None:
            dbapi_connection.driver_connection.add_query_logger(self.query)

        def checked_out(*_args: Any) -> None:
            if self.counting:
                self.current.checkouts += 1

        event.listen(engine.sync_engine, "connect", connected)
        event.listen(engine.sync_engine, "checkout", checked_out)

    @contextmanager
    def one(self) -> Iterator[Statements]:
        self.current, self.counting = Statements(), True
        try:
            yield self.current
        finally:
            self.counting = False


async def count_statements(settings: Settings, targets: dict[str, Target]) -> dict[str, Statements]:
    """One request of each shape through the app in this process, after two to warm caches."""
    counter = StatementCounter()
    db = Database(
        settings.servers(),
        pool_size=settings.database_pool_size,
        pool_timeout=settings.database_pool_timeout,
    )
    db.add_statement_listener(counter.statement)
    db.add_engine_listener(counter.engine)
    app = create_app(settings, db)
    transport = httpx.ASGITransport(app=app)
    found: dict[str, Statements] = {}
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
            for name, target in targets.items():
                for _ in range(2):
                    await client.post("/graphql", content=target.body, headers=target.headers)
                with counter.one() as counted:
                    response = await client.post(
                        "/graphql", content=target.body, headers=target.headers
                    )
                if response.status_code != 200 or "errors" in response.json():
                    raise RuntimeError(f"in-process {name}: {response.text[:500]}")
                found[name] = counted
    finally:
        app.state.observability.shutdown()
        await app.state.redis.aclose()
        await db.dispose()
    return found


# --- the report


def _ms(run: Run) -> str:
    return f"{run.p50:,.1f} / {run.p95:,.1f} / {run.p99:,.1f}"


def print_table(
    results: dict[str, dict[int, tuple[Run, Run]]],
    statements: dict[str, Statements],
    sizes: dict[str, int],
) -> None:
    print(
        "| shape | c | floor req/s | API req/s | API x floor | floor p50 / p95 / p99 ms "
        "| API p50 / p95 / p99 ms | API responses not OK | API busy after the run, s "
        "| statements per request |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for shape, cells in results.items():
        for i, (concurrency, (floor, api)) in enumerate(cells.items()):
            ratio = f"{floor.rps / api.rps:,.1f}" if api.rps else "none answered"
            print(
                f"| {shape if i == 0 else ''} | {concurrency} | {floor.rps:,.0f} | {api.rps:,.1f} "
                f"| {ratio} | {_ms(floor)} | {_ms(api)} | {api.not_ok} | {api.busy_after:,.1f} "
                f"| {statements[shape].total if i == 0 else ''} |"
            )
    print()
    print("| shape | response bytes | statements per request (warm caches) |")
    print("|---|---:|---|")
    for shape, counted in statements.items():
        print(f"| {shape} | {sizes[shape]:,} | {counted.total}: {counted.detail()} |")
    failed = [
        f"- {shape} c={c}: {api.outcome_text()}"
        for shape, cells in results.items()
        for c, (_floor, api) in cells.items()
        if api.not_ok
    ]
    if failed:
        print("\nAPI responses that were not a complete 200:")
        print("\n".join(failed))
    few = [
        f"- {shape} c={c}: {api.requests} API answers"
        for shape, cells in results.items()
        for c, (_floor, api) in cells.items()
        if api.requests < FEW
    ]
    if few:
        print(f"\nFewer than {FEW} answers in a run (too few for percentiles; longer --duration):")
        print("\n".join(few))


def _machine() -> str:
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    commit = subprocess.run(
        ["git", "-C", str(ROOT), "describe", "--always", "--dirty"],
        capture_output=True,
        text=True,
        check=False,
    ).stdout.strip()
    return f"commit {commit or '?'}, {os.cpu_count()} cores, load average {load}"


# --- main


@dataclass
class Bench:
    api: Server
    floor: Server | None
    settings: Settings
    env: dict[str, str]
    token: str | None = None

    def target(self, shape: str, *, floor: bool = False) -> Target:
        headers = {"Content-Type": "application/json"}
        if shape in AUTHENTICATED and self.token is not None:
            headers["Authorization"] = f"Bearer {self.token}"
        body = json.dumps({"query": SHAPES[shape]})
        if floor:
            assert self.floor is not None
            return Target(f"{self.floor.url}/{shape}", body, headers)
        return Target(f"{self.api.url}/graphql", body, headers)


async def measure(bench: Bench, shapes: list[str], levels: list[int], seconds: float) -> None:
    assert bench.floor is not None
    api_targets = {shape: bench.target(shape) for shape in shapes}
    sizes = {
        shape: await same_answers(api_targets[shape], bench.target(shape, floor=True))
        for shape in shapes
    }
    statements = await count_statements(bench.settings, api_targets)
    print(f"Started {datetime.now(UTC):%Y-%m-%d %H:%M} UTC; {_machine()}", flush=True)
    results: dict[str, dict[int, tuple[Run, Run]]] = {}
    for shape in shapes:
        floor_target = bench.target(shape, floor=True)
        for target, server in ((floor_target, bench.floor), (api_targets[shape], bench.api)):
            run_wrk(target, 10, 1)  # warm-up: pools, caches, prepared statements
            settle(server)
        results[shape] = {}
        for concurrency in levels:
            floor = run_wrk(floor_target, concurrency, seconds)
            floor.busy_after = settle(bench.floor)
            api = run_wrk(api_targets[shape], concurrency, seconds)
            api.busy_after = settle(bench.api)
            results[shape][concurrency] = (floor, api)
            print(
                f"  {shape} c={concurrency}: floor {floor.rps:,.0f} req/s, "
                f"API {api.rps:,.1f} req/s",
                file=sys.stderr,
                flush=True,
            )
    print(
        f"\n{len(levels)} concurrency levels x {len(shapes)} shapes, {round(seconds)} s per cell "
        f"and target; finished with {_machine()}\n"
    )
    print_table(results, statements, sizes)


async def burst(bench: Bench, seconds: float) -> None:
    nested, small = bench.target("nested"), bench.target("small")
    await complete(nested)
    run_wrk(nested, 10, 1)  # warm-up
    print(f"Started {datetime.now(UTC):%Y-%m-%d %H:%M} UTC; {_machine()}", flush=True)
    settle(bench.api)
    lines_before = bench.api.log_lines()
    during = run_wrk(nested, 100, seconds, timeout=seconds + 120)
    started = time.perf_counter()
    try:
        async with httpx.AsyncClient(timeout=300) as client:
            response = await client.post(small.url, content=small.body, headers=small.headers)
        codes = [e.get("extensions", {}).get("code") for e in response.json().get("errors", [])]
        answer = f"HTTP {response.status_code}, " + (
            f"errors: {', '.join(map(str, codes))}"
            if codes
            else ("complete" if response.status_code == 200 else "no errors listed")
        )
    except httpx.TimeoutException:
        answer = "no answer within 300 s"
    except ValueError:  # not JSON
        answer = f"HTTP {response.status_code}, {response.text[:200]}"
    after_ms = (time.perf_counter() - started) * 1000
    log_records_then = bench.api.log_lines() - lines_before
    busy = settle(bench.api) + after_ms / 1000
    levels: Counter[str] = Counter()
    with bench.api.log.open("rb") as log:
        for i, line in enumerate(log):
            if i >= lines_before:
                try:
                    levels[str(json.loads(line).get("level", "?"))] += 1
                except ValueError:
                    levels["not JSON"] += 1
    print(f"\nBurst: 100 connections sending the nested shape for {round(seconds)} s\n")
    print("| what | measured |")
    print("|---|---|")
    print(f"| nested answered | {during.rps:,.1f} req/s; {during.outcome_text()} |")
    print(
        f"| nested latency of answered p50 / p95 / p99 / max ms | {_ms(during)} / "
        f"{during.max:,.0f} |"
    )
    print(f"| one small request right after the burst | {after_ms:,.0f} ms, {answer} |")
    print(f"| server busy after the burst ended (CPU above 5% of a core) | {busy:,.1f} s |")
    shown = ", ".join(f"{n} {level}" for level, n in levels.most_common())
    print(
        f"| server log records from the burst's start | {log_records_then:,} until that answer; "
        f"{levels.total():,} until idle ({shown}) |"
    )


def options() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--duration",
        "--seconds",
        type=float,
        default=10,
        help="seconds per cell and target (or of the burst)",
    )
    parser.add_argument("--concurrency", default="1,10,100", help="comma-separated levels")
    parser.add_argument("--shapes", default=",".join(SHAPES), help="comma-separated shapes")
    parser.add_argument("--workers", type=int, default=1, help="uvicorn workers of each server")
    parser.add_argument(
        "--burst", type=float, metavar="SECONDS", help="the overload check instead of the table"
    )
    args = parser.parse_args()
    args.shapes = [s.strip() for s in args.shapes.split(",") if s.strip()]
    if unknown := set(args.shapes) - set(SHAPES):
        parser.error(f"unknown shapes {sorted(unknown)}; known: {', '.join(SHAPES)}")
    args.concurrency = [int(c) for c in args.concurrency.split(",")]
    if shutil.which("wrk") is None:
        parser.error("wrk is missing: apt-get install wrk")
    if not Path(graph.__file__).resolve().is_relative_to(ROOT):
        # The venv's editable install may point at another checkout than this one.
        parser.error(f"imports {graph.__file__}: run it as `python -m benchmarks.load` from {ROOT}")
    return args


async def main(args: argparse.Namespace) -> None:
    base = os.environ.get("DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
    dsn = make_url(base).set(database="unityplan_bench").render_as_string(False)
    await seed(dsn)
    private_pem, public_pem = _ed25519_pem()
    api_port = free_port()
    values: dict[str, Any] = {
        "database_url": dsn,
        "redis_url": os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"),
        "redis_key_prefix": f"unityplan-bench-{os.getpid()}:",
        "host": "127.0.0.1",
        "port": api_port,
        "workers": args.workers,
        "unityplan_env": "production",
        # Throwaway secrets: production refuses to start without them.
        "identity_hash_key": secrets.token_hex(32),
        "jwt_private_keys": {"bench": private_pem},
        # Inline documents, one client address, and one token for the whole run: the limiter
        # and token refreshes are not what is measured.
        "trusted_documents": "off",
        "rate_limit": False,
        "access_token_ttl_seconds": 24 * 3600,
    }
    settings = Settings(**values)
    # PYTHONPATH: THIS checkout's packages, not those the venv's editable install points at.
    env = {**os.environ, **_environ(values), "PYTHONPATH": str(ROOT)}
    api = start_server("api", [str(BIN / "unityplan"), "serve"], env, api_port)
    floor: Server | None = None
    try:
        if args.burst is None:
            floor_port = free_port()
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
                    *(sys.executable, "-m", "uvicorn", "floor:app", "--factory"),
                    *("--app-dir", str(ROOT / "benchmarks"), "--host", "127.0.0.1"),
                    *("--port", str(floor_port), "--workers", str(args.workers)),
                    *("--log-level", "warning", "--no-access-log"),
                ],
                floor_env,
                floor_port,
            )
            await wait_healthy(floor)
        await wait_healthy(api)
        bench = Bench(api, floor, settings, env)
        if args.burst is not None or AUTHENTICATED & set(args.shapes):
            bench.token = await viewer_token(api, env)
        if args.burst is not None:
            await burst(bench, args.burst)
        else:
            await measure(bench, args.shapes, args.concurrency, args.duration)
    finally:
        for server in (api, floor):
            if server is not None:
                stop_server(server)
        redis = Redis.from_url(settings.redis_url)
        try:
            keys = [k async for k in redis.scan_iter(match=f"{settings.redis_key_prefix}*")]
            if keys:
                await redis.delete(*keys)
        finally:
            await redis.aclose()


if __name__ == "__main__":
    asyncio.run(main(options()))
