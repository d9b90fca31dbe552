"""Helpers of the files tests: GraphQL multipart bodies, test files, and what is stored."""

from __future__ import annotations

import io
import json
import os
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
from PIL import Image
from sqlalchemy import func, select

from db.engines import Database
from db.models import files
from files.ipfs import IpfsNode
from graph import ids
from tests.authkit import server_of
from tests.conftest import UPLOAD_TEMP_DIR

BOUNDARY = "unityplan-test-boundary-7d1e"
UPLOAD = """
mutation($input: UploadFileInput!) {
  uploadFile(input: $input) {
    alreadyStored
    file { id cid mimeType size purpose url filename width height createdAt
           owner { id } variants { variant cid mimeType width height url } }
  }
}"""


def multipart_head(purpose: str, filename: str, content_type: str) -> bytes:
    """Everything of a one-file GraphQL multipart body up to the file's bytes."""
    operations = json.dumps(
        {"query": UPLOAD, "variables": {"input": {"file": None, "purpose": purpose}}}
    )
    mapping = json.dumps({"0": ["variables.input.file"]})
    return (
        f"--{BOUNDARY}\r\n"
        'Content-Disposition: form-data; name="operations"\r\n\r\n'
        f"{operations}\r\n"
        f"--{BOUNDARY}\r\n"
        'Content-Disposition: form-data; name="map"\r\n\r\n'
        f"{mapping}\r\n"
        f"--{BOUNDARY}\r\n"
        f'Content-Disposition: form-data; name="0"; filename="{filename}"\r\n'
        f"Content-Type: {content_type}\r\n\r\n"
    ).encode()


TAIL = f"\r\n--{BOUNDARY}--\r\n".encode()

HEADERS = {
    "Content-Type": f"multipart/form-data; boundary={BOUNDARY}",
    "GraphQL-Require-Preflight": "1",
}


async def upload(
    client: httpx.AsyncClient,
    token: str | None,
    data: bytes,
    *,
    purpose: str = "ATTACHMENT",
    filename: str = "file.bin",
    content_type: str = "application/octet-stream",
    truncate: bool = False,
    headers: dict[str, str] | None = None,
) -> httpx.Response:
    body = multipart_head(purpose, filename, content_type) + data + (b"" if truncate else TAIL)
    sent = {**HEADERS, **(headers or {})}
    if token is not None:
        sent["Authorization"] = f"Bearer {token}"
    return await client.post("/graphql", content=body, headers=sent)


def uploaded(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code == 200, response.text
    body = response.json()
    assert "errors" not in body, body
    result: dict[str, Any] = body["data"]["uploadFile"]
    return result


def png(width: int = 32, height: int = 24, color: tuple[int, int, int] = (200, 30, 30)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), color).save(out, "PNG")
    return out.getvalue()


def jpeg_with_gps() -> bytes:
    """A JPEG whose EXIF names a camera and a GPS position (what a phone writes)."""
    image = Image.new("RGB", (40, 30), (10, 120, 200))
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # Make
    exif[0x0110] = "PhoneModel X"  # Model
    gps = exif.get_ifd(0x8825)
    gps[1] = "N"
    gps[2] = (55.0, 40.0, 30.0)
    gps[3] = "E"
    gps[4] = (12.0, 34.0, 56.0)
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif)
    return out.getvalue()


def mp4(size: int) -> bytes:
    """``size`` bytes that libmagic calls video/mp4: an ``ftyp`` box, then random data."""
    head = b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom"
    return head + os.urandom(size - len(head))


def mp4_chunks(size: int, chunk: int = 1 << 20) -> Iterator[bytes]:
    head = mp4(64)
    yield head
    left = size - len(head)
    while left > 0:
        n = min(chunk, left)
        yield os.urandom(n)
        left -= n


async def file_rows(db: Database, territory: str) -> int:
    async with db.connect(server_of(territory), territory) as conn:
        return int((await conn.execute(select(func.count()).select_from(files))).scalar_one())


def temp_files() -> list[str]:
    return sorted(os.listdir(UPLOAD_TEMP_DIR)) if os.path.isdir(UPLOAD_TEMP_DIR) else []


async def stored(db: Database, territory: str, node: IpfsNode) -> tuple[int, int, list[str]]:
    """(file rows, recursive pins, temporary files): what a refused upload must not change."""
    return await file_rows(db, territory), len(await node.pins()), temp_files()


def key_of(file_id: str) -> uuid.UUID:
    return uuid.UUID(ids.decode(file_id).key)
