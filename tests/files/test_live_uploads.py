"""Uploads to a real server over a socket: a 100 MB video streamed in and read back with range
requests (video seeking), and an avatar uploaded by curl's multipart client (``curl -F``)."""

from __future__ import annotations

import asyncio
import hashlib
import json
import tempfile
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest

from db.engines import Database
from graph.server.app import create_app
from tests.authkit import account, call
from tests.files import HEADERS, TAIL, UPLOAD, mp4_chunks, multipart_head, png
from tests.live import serve
from unityplan.settings import Settings

SIZE = 100 * 1024 * 1024


@pytest.fixture(scope="module")
def files_server(settings: Settings, db: Database) -> Iterator[str]:
    """A server of this module's own, without the outbox relay: the session's shared one runs a
    relay that would publish other tests' outbox rows while they look at them."""
    with serve(create_app(settings.model_copy(update={"events_relay": False}))) as url:
        yield url


SLICE = 8 * 1024 * 1024


async def test_a_100_mb_video_streams_in_and_back_by_ranges(
    files_server: str, db: Database
) -> None:
    digest = hashlib.sha256()

    async def body() -> AsyncIterator[bytes]:
        yield multipart_head("COURSE_MATERIAL", "lecture.mp4", "video/mp4")
        for chunk in mp4_chunks(SIZE):
            digest.update(chunk)
            yield chunk
        yield TAIL

    async with httpx.AsyncClient(base_url=files_server, timeout=120) as client:
        token = (await account(client, db, "dk"))["accessToken"]
        auth = {"Authorization": f"Bearer {token}"}
        response = await client.post("/graphql", content=body(), headers={**HEADERS, **auth})
        assert response.status_code == 200, response.text
        file = response.json()["data"]["uploadFile"]["file"]
        assert (file["mimeType"], file["size"]) == ("video/mp4", SIZE)
        read_back = hashlib.sha256()
        for start in range(0, SIZE, SLICE):
            end = min(start + SLICE, SIZE) - 1
            part = await client.get(file["url"], headers={**auth, "Range": f"bytes={start}-{end}"})
            assert part.status_code == 206
            assert part.headers["content-range"] == f"bytes {start}-{end}/{SIZE}"
            read_back.update(part.content)
        assert read_back.hexdigest() == digest.hexdigest()
        seek = await client.get(file["url"], headers={**auth, "Range": "bytes=73400320-73400329"})
        assert seek.status_code == 206
        assert len(seek.content) == 10


async def test_curl_uploads_an_avatar(files_server: str, db: Database) -> None:
    async with httpx.AsyncClient(base_url=files_server) as client:
        token = (await account(client, db, "se"))["accessToken"]
    operations = {"query": UPLOAD, "variables": {"input": {"file": None, "purpose": "AVATAR"}}}
    with tempfile.TemporaryDirectory() as folder:
        picture = Path(folder) / "me.png"
        picture.write_bytes(png(120, 90))
        process = await asyncio.create_subprocess_exec(
            "curl", "-sS", f"{files_server}/graphql",
            "-H", f"Authorization: Bearer {token}",
            "-H", "GraphQL-Require-Preflight: 1",
            "-F", f"operations={json.dumps(operations)}",
            "-F", 'map={"0": ["variables.input.file"]}',
            "-F", f"0=@{picture};type=image/png",
            stdout=asyncio.subprocess.PIPE,
        )  # fmt: skip
        out, _ = await process.communicate()
    body = json.loads(out)
    assert "errors" not in body, body
    file = body["data"]["uploadFile"]["file"]
    assert (file["mimeType"], file["width"], file["height"]) == ("image/png", 120, 90)
    assert [v["variant"] for v in file["variants"]] == ["64", "256"]
    async with httpx.AsyncClient(base_url=files_server) as client:
        set_avatar = await call(
            client,
            "mutation($i: UpdateProfileInput!) { updateProfile(input: $i) "
            "{ profile { avatar { id } } } }",
            {"i": {"avatar": file["id"]}},
            token,
        )
    assert set_avatar["data"]["updateProfile"]["profile"]["avatar"]["id"] == file["id"]
