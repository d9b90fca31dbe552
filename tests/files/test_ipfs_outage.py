"""The IPFS node stopped or hanging: uploads and downloads fail within the timeout with a clear
code, nothing is half-recorded, /readyz says so, and the same app recovers when the node returns.

The app reaches the real node through a TCP relay the test controls: forwarding, refusing
connections (a stopped node) or accepting and never answering (a hung one).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from db.engines import Database
from files.ipfs import IpfsNode
from graph.server.app import create_app
from tests.authkit import account, codes
from tests.files import png, stored, upload, uploaded
from unityplan.devservices import free_port
from unityplan.settings import Settings

TIMEOUT = 1.0


class Relay:
    """127.0.0.1:<port> -> the real node, in one of three modes."""

    def __init__(self, target: str) -> None:
        parts = urlsplit(target)
        self.host, self.target_port = parts.hostname or "127.0.0.1", parts.port or 5001
        self.port = free_port()
        self._mode = "forward"
        self.flowing = asyncio.Event()
        self.flowing.set()
        self.server: asyncio.Server | None = None
        self.tasks: set[asyncio.Task[None]] = set()

    @property
    def mode(self) -> str:
        return self._mode

    @mode.setter
    def mode(self, value: str) -> None:
        """``forward`` or ``hang`` (a hung node: open connections go silent too)."""
        self._mode = value
        if value == "hang":
            self.flowing.clear()
        else:
            self.flowing.set()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self) -> None:
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", self.port)

    async def stop(self) -> None:
        if self.server is not None:
            self.server.close()
            await self.server.wait_closed()
            self.server = None
        for task in list(self.tasks):
            task.cancel()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self.tasks.add(task)
        try:
            if self.mode == "hang":
                await asyncio.sleep(3600)
            upstream_reader, upstream_writer = await asyncio.open_connection(
                self.host, self.target_port
            )
            await asyncio.gather(
                self._pipe(reader, upstream_writer), self._pipe(upstream_reader, writer)
            )
        except (OSError, asyncio.CancelledError):
            pass
        finally:
            self.tasks.discard(task)
            writer.close()

    async def _pipe(self, source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
        with contextlib.suppress(OSError):
            while chunk := await source.read(65536):
                await self.flowing.wait()
                sink.write(chunk)
                await sink.drain()
        sink.close()


@pytest.fixture
async def relay(settings: Settings) -> AsyncIterator[Relay]:
    relay = Relay(settings.ipfs_url)
    await relay.start()
    yield relay
    await relay.stop()


@pytest.fixture
async def relayed(settings: Settings, db: Database, relay: Relay) -> AsyncIterator[Any]:
    app = create_app(
        settings.model_copy(update={"ipfs_url": relay.url, "ipfs_timeout_seconds": TIMEOUT}), db
    )
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://testserver"
    ) as client:
        yield client
    await app.state.redis.aclose()
    await app.state.storage.node.close()


@pytest.fixture(scope="module")
async def node(settings: Settings) -> AsyncIterator[IpfsNode]:
    ipfs = IpfsNode(settings.ipfs_url)
    yield ipfs
    await ipfs.close()


@pytest.mark.parametrize("outage", ["stopped", "hanging"])
async def test_uploads_fail_within_the_timeout_and_record_nothing(
    relayed: httpx.AsyncClient, relay: Relay, db: Database, node: IpfsNode, outage: str
) -> None:
    token = (await account(relayed, db, "dk"))["accessToken"]
    if outage == "stopped":
        await relay.stop()
    else:
        relay.mode = "hang"
    before = await stored(db, "dk", node)
    started = time.monotonic()
    response = await upload(relayed, token, b"notes\n" * 1000, filename="n.txt")
    elapsed = time.monotonic() - started
    assert codes(response.json()) == ["STORAGE_UNAVAILABLE"]
    assert elapsed < TIMEOUT + 2, elapsed
    assert await stored(db, "dk", node) == before
    ready = await relayed.get("/readyz")
    assert ready.status_code == 200  # degraded, not unready: queries do not need IPFS
    assert ready.json()["checks"]["ipfs"] is False
    assert "ipfs" in ready.json()["degraded"]


async def test_downloads_fail_fast_and_the_app_recovers_without_a_restart(
    relayed: httpx.AsyncClient, relay: Relay, db: Database
) -> None:
    token = (await account(relayed, db, "dk"))["accessToken"]
    file = uploaded(await upload(relayed, token, png(), filename="p.png"))["file"]
    relay.mode = "hang"
    started = time.monotonic()
    hung = await relayed.get(file["url"], headers={"Authorization": f"Bearer {token}"})
    assert hung.status_code == 503
    assert codes(hung.json()) == ["STORAGE_UNAVAILABLE"]
    assert time.monotonic() - started < TIMEOUT + 2
    relay.mode = "forward"
    served = await relayed.get(file["url"], headers={"Authorization": f"Bearer {token}"})
    assert served.status_code == 200
    again = uploaded(await upload(relayed, token, b"back again\n", filename="b.txt"))
    assert again["file"]["size"] == 11
    assert (await relayed.get("/readyz")).json()["checks"]["ipfs"] is True
