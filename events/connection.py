"""One NATS connection per process that outlives outages: connect with backoff, reconnect forever.

The API must start and keep committing while NATS is down (events wait in the outbox), so the first
connection is made in the background too; whoever needs JetStream checks :attr:`is_connected` or
waits for :meth:`wait_connected`. Each (re)connection brings the stream to its spec first.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable

import nats
from nats.aio.client import Client
from nats.js import JetStreamContext

from events.streams import StreamSpec, ensure_stream

logger = logging.getLogger(__name__)

CONNECT_DELAY_FIRST = 0.2
CONNECT_DELAY_MAX = 10.0
"""Seconds between attempts while NATS is unreachable: doubling from 0.2 s up to 10 s."""


class NatsLink:
    """The process's NATS connection and JetStream context, (re)established in the background."""

    def __init__(self, url: str, *, name: str, stream: StreamSpec) -> None:
        self.url = url
        self.name = name
        self.stream = stream
        self._nc: Client | None = None
        self._js: JetStreamContext | None = None
        self._ready = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._listeners: list[Callable[[], None]] = []
        self._closing = False

    def on_ready(self, listener: Callable[[], None]) -> None:
        """Call ``listener`` after every (re)connection, once the stream is in place."""
        self._listeners.append(listener)

    @property
    def is_connected(self) -> bool:
        return self._ready.is_set() and self._nc is not None and self._nc.is_connected

    @property
    def js(self) -> JetStreamContext:
        if self._js is None:
            raise ConnectionError("NATS is not connected yet")
        return self._js

    async def wait_connected(self, timeout: float | None = None) -> None:
        async with asyncio.timeout(timeout):
            await self._ready.wait()

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._connect(), name=f"nats-connect:{self.name}")

    async def close(self) -> None:
        self._closing = True
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        if self._nc is not None:
            with contextlib.suppress(Exception):
                await self._nc.close()
            self._nc = None
            self._js = None
        self._ready.clear()

    async def restore_stream(self) -> None:
        """Re-create the stream if it went missing (deleted by an operator, a server replaced
        without its store); a failure is logged and left to the next call."""
        try:
            await ensure_stream(self.js, self.stream)
        except Exception as error:  # NATS may be down again: the relay retries later
            logger.warning("JetStream stream set-up failed (%s)", error)

    async def _connect(self) -> None:
        delay = CONNECT_DELAY_FIRST
        while True:
            try:
                nc = await nats.connect(
                    self.url,
                    name=self.name,
                    allow_reconnect=True,
                    max_reconnect_attempts=-1,
                    reconnect_time_wait=1,
                    connect_timeout=2,
                    error_cb=self._on_error,
                    disconnected_cb=self._on_disconnected,
                    reconnected_cb=self._on_reconnected,
                )
            except Exception as error:  # any failure means "try again later"
                logger.warning("NATS unreachable (%s); retrying in %.1f s", error, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, CONNECT_DELAY_MAX)
                continue
            self._nc = nc
            self._js = nc.jetstream()
            await self._prepare()
            return

    async def _prepare(self) -> None:
        """Ensure the stream (retrying while JetStream is not ready), then tell the listeners."""
        delay = CONNECT_DELAY_FIRST
        while True:
            try:
                await ensure_stream(self.js, self.stream)
                break
            except Exception as error:  # JetStream may still be starting
                logger.warning("JetStream stream set-up failed (%s); retrying", error)
                await asyncio.sleep(delay)
                delay = min(delay * 2, CONNECT_DELAY_MAX)
        self._ready.set()
        logger.info("NATS connected; stream %s ready", self.stream.name)
        for listener in self._listeners:
            listener()

    async def _on_error(self, error: Exception) -> None:
        logger.debug("NATS: %s", error)

    async def _on_disconnected(self) -> None:
        if not self._closing:
            logger.warning("NATS disconnected; outbox rows wait until it is back")

    async def _on_reconnected(self) -> None:
        self._ready.clear()
        if self._task is not None and not self._task.done():
            return
        self._task = asyncio.create_task(self._prepare(), name=f"nats-ready:{self.name}")
