"""Serve an ASGI app under uvicorn on a free 127.0.0.1 port, in a thread."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import uvicorn
from starlette.types import ASGIApp

STARTUP_TIMEOUT_SECONDS = 30


class _Server(uvicorn.Server):
    """uvicorn's server, saying when it listens: the test thread waits on that, never polls."""

    def __init__(self, config: uvicorn.Config) -> None:
        super().__init__(config)
        self.ready = threading.Event()

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        try:
            await super().startup(sockets)
        finally:
            # Also when start-up failed (should_exit is then set): the waiter looks at `started`.
            self.ready.set()


@contextmanager
def serve(app: ASGIApp) -> Iterator[str]:
    """Yield the base URL while uvicorn serves ``app`` (its own event loop, its own engines)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    # No permessage-deflate, as `unityplan serve` (WS_PER_MESSAGE_DEFLATE): what is measured and
    # tested here is what production runs.
    config = uvicorn.Config(
        app,
        log_level="warning",
        ws="websockets-sansio",
        ws_per_message_deflate=False,
        access_log=False,
    )
    server = _Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        if not server.ready.wait(STARTUP_TIMEOUT_SECONDS) or not server.started:
            raise RuntimeError("uvicorn did not start")
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()
