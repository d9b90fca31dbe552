"""Faults under a steady load (issue 9, "Must show"): Redis stopped for 20 s, then PostgreSQL
restarted, while clients keep reading, writing and logging in.

Runs by hand, never in CI:

    .venv/bin/python -m benchmarks.faults [--clients 8] [--steady 10] [--redis-down 20]

It starts its OWN PostgreSQL cluster and redis-server on free ports (never the machine's shared
servers, which other people's suites use), migrates and seeds a database there, serves THIS
checkout's app with uvicorn in this process (graph/server/protocol.py's protocol, as
`unityplan serve` does) and drives it over HTTP with ``--clients`` concurrent clients. Each
client owns four accounts and loops: ``me`` (authenticated read), ``createSocialGroup`` with a
name used once (a write whose every acknowledgement can be checked), and now and then a login.

Timeline: steady, Redis stopped for ``--redis-down`` seconds, steady, PostgreSQL fast-shutdown
and start (same port), steady. Afterwards it reports, per phase, the answers by HTTP status and
error code, and checks every write: each acknowledged group must exist once; a group that exists
although its call failed (the commit landed, the answer did not) is counted apart. It exits 1 if
any answer was INTERNAL_SERVER_ERROR, any acknowledged write is missing, or any is doubled.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from db.accounts import active_territory
from db.demo import seed_demo
from db.engines import Database
from db.invitations import create_invitation
from db.migrate import migrate_all
from db.models import social_groups
from db.provisioning import ensure_database
from domain.roles import Role
from graph.server.app import create_app
from graph.server.protocol import BoundedHttpProtocol
from unityplan.devservices import PrivateRedis, free_port, start_postgres, stop_postgres
from unityplan.settings import MAIN_SERVER, Settings

TERRITORY = "dk"
PASSWORD = "a long enough passphrase 42"
REGISTER = """mutation($i: RegisterInput!) { register(input: $i) { id } }"""
LOGIN = """mutation($i: LoginInput!) { login(input: $i) { accessToken } }"""
ME = "{ me { id } }"
CREATE = "mutation($n: String!) { createSocialGroup(input: {name: $n}) { socialGroup { id } } }"


@dataclass
class Tally:
    phase: str = "steady 1"
    answers: dict[str, Counter[str]] = field(default_factory=dict)
    acknowledged: set[str] = field(default_factory=set)
    failed_writes: set[str] = field(default_factory=set)

    def count(self, outcome: str) -> None:
        self.answers.setdefault(self.phase, Counter())[outcome] += 1


def _outcome(response: httpx.Response | None, error: BaseException | None) -> str:
    if response is None:
        return f"no answer ({type(error).__name__})"
    try:
        body = response.json()
    except ValueError:
        return f"{response.status_code} (not JSON)"
    codes = sorted({e.get("extensions", {}).get("code") for e in body.get("errors", [])})
    return f"{response.status_code} {','.join(map(str, codes)) or 'ok'}"


async def _post(
    client: httpx.AsyncClient, query: str, variables: dict[str, Any], token: str | None = None
) -> tuple[httpx.Response | None, BaseException | None]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    try:
        response = await client.post(
            "/graphql", json={"query": query, "variables": variables}, headers=headers
        )
    except httpx.HTTPError as error:
        return None, error
    return response, None


async def _accounts(client: httpx.AsyncClient, db: Database, n: int) -> list[tuple[str, str]]:
    """``n`` fresh dk accounts: (username, access token)."""
    record = await active_territory(db, TERRITORY)
    assert record is not None
    made = []
    for i in range(n):
        token, _ = await create_invitation(
            db,
            record,
            email=None,
            max_uses=1,
            role=Role.MEMBER,
            ttl=timedelta(hours=1),
            created_by=None,
            actor=None,
        )
        name = f"fault{os.getpid()}x{i}"
        variables = {
            "i": {
                "invitationToken": token,
                "username": name,
                "email": f"{name}@example.org",
                "password": PASSWORD,
            }
        }
        response, _ = await _post(client, REGISTER, variables)
        if response is None or "errors" in response.json():
            raise RuntimeError(f"could not register {name}: {response and response.text}")
        login = {"i": {"identifier": name, "password": PASSWORD, "territory": TERRITORY}}
        response, _ = await _post(client, LOGIN, login)
        if response is None:
            raise RuntimeError(f"could not log {name} in")
        made.append((name, response.json()["data"]["login"]["accessToken"]))
    return made


async def _client_loop(
    client: httpx.AsyncClient,
    accounts: list[tuple[str, str]],
    number: int,
    tally: Tally,
    stop: asyncio.Event,
) -> None:
    step = 0
    while not stop.is_set():
        name, token = accounts[step % len(accounts)]
        if step % 3 == 1:
            group = f"c{number}-{step}"
            response, error = await _post(client, CREATE, {"n": group}, token)
            outcome = _outcome(response, error)
            (tally.acknowledged if outcome == "200 ok" else tally.failed_writes).add(group)
        elif step % 10 == 9:
            login = {"i": {"identifier": name, "password": PASSWORD, "territory": TERRITORY}}
            response, error = await _post(client, LOGIN, login)
            outcome = _outcome(response, error)
        else:
            response, error = await _post(client, ME, {}, token)
            outcome = _outcome(response, error)
        tally.count(outcome)
        step += 1


async def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Faults under a steady load (issue 9).")
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--steady", type=float, default=10.0, help="seconds of each steady phase")
    parser.add_argument("--redis-down", type=float, default=20.0)
    args = parser.parse_args(argv)

    base = Path(f"/var/tmp/unityplan-faults-{os.getpid()}")
    pg_dir, pg_port = base / "postgres", free_port()
    redis = PrivateRedis(base / "redis")
    dsn = make_url(start_postgres(pg_dir, pg_port)).set(database="unityplan_faults")
    dsn_text = dsn.render_as_string(hide_password=False)
    redis.start()
    db: Database | None = None
    server: uvicorn.Server | None = None
    serving: asyncio.Task[None] | None = None
    try:
        await ensure_database(dsn_text)
        settings = Settings(
            unityplan_env="test",
            database_url=dsn_text,
            database_servers={},
            redis_url=redis.url,
            rate_limit=False,
            max_in_flight=1000,
            login_max_failures_per_ip=100000,
        )
        db = Database(settings.servers(), pool_size=10)
        await migrate_all(db)
        await seed_demo(db)
        app = create_app(settings, db)
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        sock.listen(1024)
        config = uvicorn.Config(app, http=BoundedHttpProtocol, lifespan="off", log_config=None)
        server = uvicorn.Server(config)
        serving = asyncio.create_task(server.serve(sockets=[sock]))
        url = f"http://127.0.0.1:{sock.getsockname()[1]}"
        limits = httpx.Limits(max_connections=args.clients * 2)
        async with httpx.AsyncClient(base_url=url, timeout=30, limits=limits) as client:
            accounts = await _accounts(client, db, 4 * args.clients)
            tally, stop = Tally(), asyncio.Event()
            loops = [
                asyncio.create_task(
                    _client_loop(client, accounts[4 * i : 4 * i + 4], i, tally, stop)
                )
                for i in range(args.clients)
            ]
            began = time.monotonic()
            await asyncio.sleep(args.steady)
            tally.phase = "redis down"
            redis.stop()
            await asyncio.sleep(args.redis_down)
            redis.start()
            tally.phase = "steady 2"
            await asyncio.sleep(args.steady)
            tally.phase = "postgres restart"
            restart_began = time.monotonic()
            await asyncio.to_thread(stop_postgres, pg_dir)
            await asyncio.to_thread(start_postgres, pg_dir, pg_port)
            restart = time.monotonic() - restart_began
            tally.phase = "steady 3"
            await asyncio.sleep(args.steady)
            stop.set()
            await asyncio.gather(*loops)
            elapsed = time.monotonic() - began
        async with db.connect(MAIN_SERVER, TERRITORY) as conn:
            rows = (
                await conn.execute(
                    select(social_groups.c.name, func.count())
                    .where(social_groups.c.kind == "custom")
                    .group_by(social_groups.c.name)
                )
            ).all()
    finally:
        if server is not None and serving is not None:
            server.should_exit = server.force_exit = True
            await serving
        if db is not None:
            await db.dispose()
        redis.stop()
        stop_postgres(pg_dir, remove_data=True)

    stored = {str(name): int(n) for name, n in rows}
    ours = tally.acknowledged | tally.failed_writes
    missing = sorted(g for g in tally.acknowledged if g not in stored)
    doubled = sorted(g for g in ours if stored.get(g, 0) > 1)
    landed_unacknowledged = sorted(g for g in tally.failed_writes if g in stored)
    print(f"# Faults under load: {args.clients} clients, {elapsed:.0f} s")
    print(f"PostgreSQL fast shutdown and start took {restart:.1f} s\n")
    print("| phase | answer | count |\n|---|---|---|")
    internal = 0
    for phase, answers in tally.answers.items():
        for outcome, n in sorted(answers.items()):
            print(f"| {phase} | {outcome} | {n} |")
            internal += n if "INTERNAL_SERVER_ERROR" in outcome else 0
    print(
        f"\nwrites acknowledged {len(tally.acknowledged)}, failed {len(tally.failed_writes)}; "
        f"acknowledged but missing {len(missing)}, doubled {len(doubled)}, "
        f"failed but committed {len(landed_unacknowledged)}; INTERNAL_SERVER_ERROR {internal}"
    )
    return 1 if internal or missing or doubled else 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
