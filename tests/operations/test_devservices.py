"""The embedded default starts real servers: a second PostgreSQL, and all three services at once.

Every check talks to the started server with the client library the API itself uses (asyncpg,
redis, nats-py), so "started" means "usable", not merely "a port is open".
"""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import asyncpg
import nats
import pytest
from redis.asyncio import Redis

from unityplan.devservices import (
    ServiceUrls,
    _ipfs_problem,
    ensure_services,
    free_port,
    start_postgres,
    stop_postgres,
    stop_services,
)

# Port 1 (tcpmux) is never served here: every probe of it is refused at once.
DEAD = {
    "database_url": "postgresql://postgres@127.0.0.1:1/unityplan_devservices",
    "nats_url": "nats://127.0.0.1:1",
    "redis_url": "redis://127.0.0.1:1/2",
    "ipfs_url": "http://127.0.0.1:1",
}


def _port_of(url: str) -> int:
    port = urlsplit(url).port
    assert port is not None
    return port


def _refuses(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return False
    except OSError:
        return True


async def _select_one(dsn: str) -> tuple[int, str]:
    conn = await asyncpg.connect(dsn, timeout=10)
    try:
        row = await conn.fetchrow("SELECT 1 AS one, current_database() AS db")
        assert row is not None
        return row["one"], row["db"]
    finally:
        await conn.close()


async def _redis_ping(url: str) -> bool:
    client = Redis.from_url(url)
    try:
        return bool(await client.ping())
    finally:
        await client.aclose()


async def _jetstream_ok(url: str) -> None:
    client = await nats.connect(url, connect_timeout=5, allow_reconnect=False)
    try:
        info = await client.jetstream().account_info()
        assert info.limits is not None
    finally:
        await client.close()


async def test_start_postgres_runs_a_second_server(tmp_path: Path) -> None:
    # tmp_path lies under a 0700 directory: as root this exercises the relocation to /var/tmp.
    data_dir = tmp_path / "second-pg"
    port = free_port()
    try:
        dsn = await asyncio.to_thread(start_postgres, data_dir, port)
        assert dsn == f"postgresql://postgres@127.0.0.1:{port}/postgres"
        assert await _select_one(dsn) == (1, "postgres")
        # Idempotent: a second call finds the running server, whatever port it is asked for.
        assert await asyncio.to_thread(start_postgres, data_dir, free_port()) == dsn
    finally:
        await asyncio.to_thread(stop_postgres, data_dir, remove_data=True)
    assert _refuses(port)
    assert not data_dir.exists()
    assert not data_dir.is_symlink()


@pytest.fixture
def state_dir(tmp_path: Path) -> Iterator[Path]:
    state = tmp_path / "run"
    try:
        yield state
    finally:
        stop_services(state, remove_data=True)


async def test_ensure_services_starts_real_servers_for_dead_urls(state_dir: Path) -> None:
    urls = await asyncio.to_thread(ensure_services, state_dir, **DEAD)

    for url, dead in zip(
        (urls.database_url, urls.nats_url, urls.redis_url, urls.ipfs_url),
        DEAD.values(),
        strict=True,
    ):
        started, wanted = urlsplit(url), urlsplit(dead)
        assert (started.scheme, started.hostname) == (wanted.scheme, "127.0.0.1")
        assert started.port not in (None, 1)
    # The database the URL names exists; the Redis database index is kept.
    assert urls.database_url.endswith("/unityplan_devservices")
    assert urls.redis_url.endswith("/2")
    assert await _select_one(urls.database_url) == (1, "unityplan_devservices")
    assert await _redis_ping(urls.redis_url)
    await _jetstream_ok(urls.nats_url)
    assert _ipfs_problem(urls.ipfs_url) is None  # js-ipfs answers /api/v0/id

    recorded = json.loads((state_dir / "services.json").read_text())
    assert {name: entry["url"] for name, entry in recorded.items()} == {
        "postgres": urls.database_url,
        "nats": urls.nats_url,
        "redis": urls.redis_url,
        "ipfs": urls.ipfs_url,
    }

    postmaster = Path(recorded["postgres"]["data_dir"]) / "postmaster.pid"
    postgres_pid = postmaster.read_text().split()[0]
    assert isinstance(recorded["nats"]["pid"], int)
    assert isinstance(recorded["redis"]["pid"], int)
    assert isinstance(recorded["ipfs"]["pid"], int)

    # A second run (the next `make run`) finds the same servers instead of starting new ones:
    # the same URLs, the same record (NATS's and Redis's pids), the same PostgreSQL postmaster.
    again = await asyncio.to_thread(ensure_services, state_dir, **DEAD)
    assert again == urls
    assert json.loads((state_dir / "services.json").read_text()) == recorded
    assert postmaster.read_text().split()[0] == postgres_pid

    # Reachable URLs are used as given: nothing is started for them.
    given = ServiceUrls(urls.database_url, urls.nats_url, urls.redis_url, urls.ipfs_url)
    other_state = state_dir.parent / "other-run"
    assert await asyncio.to_thread(ensure_services, other_state, **vars(given)) == given
    assert json.loads((other_state / "services.json").read_text()) == {}

    await asyncio.to_thread(stop_services, state_dir, remove_data=True)
    for url in (urls.database_url, urls.nats_url, urls.redis_url, urls.ipfs_url):
        assert _refuses(_port_of(url)), url
