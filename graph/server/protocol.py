"""uvicorn's HTTP protocol with read deadlines: slow clients cannot hold connections forever.

uvicorn times out only idle keep-alive connections. A client sending its headers a byte every
few seconds (slowloris), or a body slower than that, held a connection and its memory for as
long as it liked (200 such clients held for 30 s in the probe). This protocol closes:

* a connection whose request line and headers are not complete ``HTTP_HEADER_TIMEOUT_SECONDS``
  after it opened or after the previous response (keep-alive);
* a request whose body stalls: each ``HTTP_BODY_TIMEOUT_SECONDS`` after its headers must bring
  at least ``BODY_PROGRESS_BYTES`` more of it. A JSON body (at most ``MAX_BODY_BYTES``) must so
  arrive in about that time, while a 500 MB upload may take as long as it keeps moving; a client
  trickling a few bytes to hold the connection is still cut off.

The app is not involved: the deadline runs in the event loop, per connection, with one timer.
A WebSocket upgrade disarms it (the WebSocket protocol has its own ping timeouts).
"""

from __future__ import annotations

import asyncio
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from unityplan.settings import get_settings

BODY_PROGRESS_BYTES = 65_536


class BoundedHttpProtocol(HttpToolsProtocol):
    """``HttpToolsProtocol`` plus the header and body deadlines of the settings."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        settings = get_settings()
        self.header_timeout = settings.http_header_timeout_seconds
        self.body_timeout = settings.http_body_timeout_seconds
        self._read_deadline: asyncio.TimerHandle | None = None
        self._body_progress = 0

    def _arm(self, seconds: float) -> None:
        self._disarm()
        self._read_deadline = self.loop.call_later(seconds, self._too_slow)

    def _disarm(self) -> None:
        if self._read_deadline is not None:
            self._read_deadline.cancel()
            self._read_deadline = None

    def _too_slow(self) -> None:
        self._read_deadline = None
        if not self.transport.is_closing():
            self.transport.close()

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm(self.header_timeout)

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def on_headers_complete(self) -> None:
        super().on_headers_complete()
        self._body_progress = 0
        self._arm(self.body_timeout)

    def on_body(self, body: bytes) -> None:
        super().on_body(body)
        self._body_progress += len(body)
        if self._body_progress >= BODY_PROGRESS_BYTES and self._read_deadline is not None:
            self._body_progress = 0
            self._arm(self.body_timeout)

    def on_message_complete(self) -> None:
        self._disarm()
        super().on_message_complete()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        # The next request's headers must come in time too; pipelined ones are already read.
        if not self.transport.is_closing() and not self.pipeline:
            self._arm(self.header_timeout)

    def handle_websocket_upgrade(self) -> None:
        self._disarm()
        super().handle_websocket_upgrade()
