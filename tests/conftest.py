"""Shared fixtures: two real PostgreSQL servers, migrated, with territories on each.

The main server is the machine's PostgreSQL (TEST_DATABASE_URL, default 127.0.0.1:5432); the second
is a throwaway cluster started for the session, so routing across database servers is real.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from redis.asyncio import Redis
from sqlalchemy.engine import make_url

from db.demo import seed_demo
from db.engines import Database
from db.migrate import migrate_all
from db.provisioning import ensure_database
from graph.server.app import create_app
from tests.live import serve
from unityplan.devservices import free_port, start_postgres, stop_postgres
from unityplan.settings import Settings

# Each run owns databases of its own (named after its pid, dropped at the end) on whichever server
# DATABASE_URL names, so runs side by side never share state.
TEST_DATABASE = f"unityplan_test_{os.getpid()}"
MAIN_DSN = os.environ.get("TEST_DATABASE_URL") or (
    make_url(os.environ.get("DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres"))
    .set(database=TEST_DATABASE)
    .render_as_string(hide_password=False)
)
SECOND = "second"
UPLOAD_TEMP_DIR = f"/tmp/unityplan-test-uploads-{os.getpid()}"
# PYTHONPATH for the `unityplan` CLI a test spawns: THIS checkout's code, not the checkout the
# venv's editable install points at (a worktree would otherwise test another branch's CLI).
CHECKOUT = str(Path(__file__).resolve().parents[1])
# Territories the suite reads: dk, no, c_dk_aarhus on main; se, fn_sami on the second server.
ON_SECOND = {"se": SECOND, "fn_sami": SECOND}


async def drop_database(dsn: str) -> None:
    url = make_url(dsn)
    admin = await asyncpg.connect(url.set(database="postgres").render_as_string(False))
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{url.database}" WITH (FORCE)')
    finally:
        await admin.close()


async def recreate_database(dsn: str) -> None:
    await drop_database(dsn)
    await ensure_database(dsn)


@pytest.fixture(scope="session")
def second_server_dsn() -> Iterator[str]:
    data_dir = Path(f"/var/tmp/unityplan-test-pg-{os.getpid()}")
    dsn = start_postgres(data_dir, free_port())
    try:
        yield make_url(dsn).set(database=TEST_DATABASE).render_as_string(False)
    finally:
        stop_postgres(data_dir, remove_data=True)


@pytest.fixture(scope="session")
def settings(second_server_dsn: str) -> Settings:
    return Settings(
        unityplan_env="test",
        nats_url=os.environ.get("NATS_URL", "nats://127.0.0.1:4222"),
        redis_url=os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"),
        database_url=MAIN_DSN,
        database_servers={SECOND: second_server_dsn},
        # The whole suite calls from one address; tests/server/test_rate_limit.py turns limits on
        # with a Redis prefix of its own.
        rate_limit=False,
        # Tests that fire many requests at once expect answers; shedding load has its own test
        # (tests/server/test_overload.py).
        max_in_flight=1000,
        # Hundreds of accounts: argon2id at its minimal cost (tests/accounts/test_login.py and
        # test_passwords_rules.py check the standard one).
        password_hashing="minimal",
        # Scheduled jobs would act on other tests' rows at any moment; tests/badges drives
        # schedulers of its own with a moved clock.
        scheduler=False,
        # The IPFS node of .run/services.env (js-ipfs, or a Kubo); uploads spool under a
        # directory of this run's own, so tests can count the temporary files left behind.
        ipfs_url=os.environ.get("IPFS_URL", "http://127.0.0.1:5001"),
        upload_temp_dir=UPLOAD_TEMP_DIR,
    )


@pytest.fixture(scope="session")
async def db(settings: Settings) -> AsyncIterator[Database]:
    for dsn in settings.servers().values():
        await recreate_database(dsn)
    database = Database(settings.servers(), pool_size=5)
    await migrate_all(database)
    await seed_demo(database, server_for=ON_SECOND)
    try:
        yield database
    finally:
        await database.dispose()
        for dsn in settings.servers().values():
            await drop_database(dsn)


@pytest.fixture(scope="session")
def live_url(settings: Settings, db: Database) -> Iterator[str]:
    """One real app under uvicorn for the session, for tests that need a socket (a browser, the
    graphql-http audit): the default settings, so the modules that use it share it."""
    with serve(create_app(settings)) as url:
        yield url


@pytest.fixture(scope="session")
async def client(settings: Settings, db: Database) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(settings, db)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
        yield c
    await app.state.storage.node.close()


@dataclass
class StatementCounter:
    """Every SQL statement sent to any server while installed, with the server's key."""

    statements: list[tuple[str, str]] = field(default_factory=list)

    def __call__(self, server: str, sql: str) -> None:
        self.statements.append((server, sql))

    @property
    def count(self) -> int:
        return len(self.statements)


@pytest.fixture
def statements(db: Database) -> Iterator[StatementCounter]:
    counter = StatementCounter()
    db.add_statement_listener(counter)
    try:
        yield counter
    finally:
        db.remove_statement_listener(counter)


async def gql(
    client: httpx.AsyncClient, query: str, variables: dict[str, Any] | None = None
) -> dict[str, Any]:
    """POST a GraphQL request; the transport must answer 200 with a JSON body."""
    response = await client.post("/graphql", json={"query": query, "variables": variables or {}})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def delete_redis_keys(url: str, prefix: str) -> None:
    """Remove what a test wrote under its own key prefix (never the whole Redis)."""
    redis = Redis.from_url(url)
    try:
        keys = [k async for k in redis.scan_iter(match=f"{prefix}*")]
        if keys:
            await redis.delete(*keys)
    finally:
        await redis.aclose()


async def age_rate_buckets(url: str, prefix: str, seconds: float) -> int:
    """Make ``seconds`` pass for every rate-limit bucket under ``prefix``; returns how many.

    The bucket script reads Redis's own clock (``TIME``), which a test cannot set; moving each
    bucket's last-refill instant back is the same, to the script, as that much time passing.
    Tests use this instead of sleeping through a Retry-After.
    """
    redis = Redis.from_url(url)
    try:
        keys = [k async for k in redis.scan_iter(match=f"{prefix}rl:*")]
        for key in keys:
            await redis.hincrbyfloat(key, "ts", -seconds * 1000)
        return len(keys)
    finally:
        await redis.aclose()


def error_codes(body: dict[str, Any]) -> list[str]:
    return [e.get("extensions", {}).get("code") for e in body.get("errors", [])]


# --- identity and access: an app of its own with a Redis prefix of its own (tests/test_auth*.py).

AUTH_REDIS_PREFIX = f"unityplan-test-{os.getpid()}:"


@pytest.fixture(scope="session")
def auth_settings(settings: Settings) -> Settings:
    return settings.model_copy(
        update={
            "redis_key_prefix": AUTH_REDIS_PREFIX,
            "login_max_failures_per_account": 3,
            "login_max_failures_per_ip": 1000,
        }
    )


@pytest.fixture(scope="session")
async def auth_app(auth_settings: Settings, db: Database) -> AsyncIterator[Any]:

    app = create_app(auth_settings, db)
    try:
        yield app
    finally:
        await delete_redis_keys(auth_settings.redis_url, AUTH_REDIS_PREFIX)
        await app.state.redis.aclose()
        await app.state.storage.node.close()


@pytest.fixture(scope="session")
async def auth_client(auth_app: Any) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=auth_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
        yield c
