"""Slow clients are cut off: headers and bodies have deadlines (graph/server/protocol.py).

A real uvicorn server on a socket of the test's own, with deadlines of a second so the test
is short; each read below waits for the server to close the connection (EOF), capped at a
generous bound that only a server without deadlines reaches.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from typing import Any

import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from graph.server.protocol import BoundedHttpProtocol

DEADLINE = 1.0
NEVER = 20.0  # far beyond DEADLINE: reached only if the server never closes


class QuickDeadlines(BoundedHttpProtocol):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.header_timeout = DEADLINE
        self.body_timeout = DEADLINE


async def _echo(request: Any) -> PlainTextResponse:
    return PlainTextResponse(str(len(await request.body())))


@pytest.fixture
async def server_port() -> AsyncIterator[int]:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(100)
    app = Starlette(routes=[Route("/", _echo, methods=["GET", "POST"])])
    config = uvicorn.Config(
        app, http=QuickDeadlines, lifespan="off", log_config=None, timeout_keep_alive=60
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        yield sock.getsockname()[1]
    finally:
        server.should_exit = server.force_exit = True  # never wait on a held connection
        await task
        sock.close()


async def _closed_by_server(reader: asyncio.StreamReader) -> bytes:
    """Everything the server sends until it closes the connection."""
    async with asyncio.timeout(NEVER):
        return await reader.read()


async def test_slow_headers_are_cut_off(server_port: int) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", server_port)
    writer.write(b"GET / HTTP/1.1\r\nHost: x\r\n")  # and never the blank line
    await writer.drain()
    assert await _closed_by_server(reader) == b""
    writer.close()


async def test_a_slow_body_is_cut_off(server_port: int) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", server_port)
    writer.write(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{")
    await writer.drain()
    assert b" 200 " not in await _closed_by_server(reader)
    writer.close()


async def test_a_keep_alive_connection_gets_the_same_header_deadline(server_port: int) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", server_port)
    writer.write(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
    await writer.drain()
    assert (await reader.readline()).startswith(b"HTTP/1.1 200")
    writer.write(b"GET / HTTP/1.1\r\nHo")  # the next request stalls mid-header
    await writer.drain()
    rest = await _closed_by_server(reader)
    assert rest.count(b"HTTP/1.1") == 0  # the rest of the first response, then EOF
    writer.close()


async def test_prompt_requests_are_served(server_port: int) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", server_port)
    writer.write(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}")
    await writer.drain()
    answer = await _closed_by_server(reader)
    assert answer.startswith(b"HTTP/1.1 200")
    assert answer.endswith(b"2")
    writer.close()
