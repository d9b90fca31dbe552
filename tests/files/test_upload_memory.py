"""Receiving an upload holds a bounded amount of memory, whatever its size and however seldom the
cyclic garbage collector would run on its own (serving raises its threshold)."""

from __future__ import annotations

import gc
import os
import tracemalloc
from collections.abc import AsyncIterator
from pathlib import Path

from starlette.requests import Request
from starlette.types import Message

from domain.files import DEFAULT_LIMITS, FileLimits
from files.uploads import ReceivedFile, remove
from graph.server.uploads import UploadLimits, receive
from tests.files import BOUNDARY, TAIL, mp4, multipart_head

SIZE = 48 << 20


async def test_a_large_upload_is_not_held_in_memory(tmp_path: Path) -> None:
    chunk = os.urandom(65_536)

    async def messages() -> AsyncIterator[Message]:
        yield {
            "type": "http.request",
            "body": multipart_head("ATTACHMENT", "v.mp4", "video/mp4"),
            "more_body": True,
        }
        yield {"type": "http.request", "body": mp4(64), "more_body": True}
        for _ in range(SIZE // len(chunk)):
            yield {"type": "http.request", "body": bytes(chunk), "more_body": True}
        yield {"type": "http.request", "body": TAIL, "more_body": False}

    stream = messages()

    async def next_message() -> Message:
        return await stream.__anext__()

    request = Request({"type": "http", "method": "POST", "headers": []}, next_message)
    limits = UploadLimits(FileLimits(DEFAULT_LIMITS), 1, 262_144, str(tmp_path))
    gc.disable()
    tracemalloc.start()
    try:
        operations, paths = await receive(request, BOUNDARY.encode(), limits)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
        gc.enable()
    received = operations["variables"]["input"]["file"]
    assert isinstance(received, ReceivedFile)
    assert received.size == SIZE + 64
    assert peak < 16 << 20, f"{peak / 2**20:.1f} MiB held while receiving {SIZE >> 20} MiB"
    remove(paths)
