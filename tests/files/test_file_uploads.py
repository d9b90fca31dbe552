"""Uploads through GraphQL multipart requests against a real IPFS node, on both database servers.

Every refusal is checked for what it leaves behind: file rows, pins on the node and temporary
files are counted before and after.
"""

from __future__ import annotations

import hashlib
import io
import os
from collections.abc import AsyncIterator

import httpx
import pytest
from PIL import Image
from sqlalchemy import select

from db.engines import Database
from db.models import outbox
from files.ipfs import IpfsNode
from graph.server.app import create_app
from tests.authkit import account, audit_actions_since, call, codes, last_audit_id, server_of
from tests.files import (
    HEADERS,
    TAIL,
    jpeg_with_gps,
    key_of,
    mp4,
    png,
    stored,
    upload,
    uploaded,
)
from unityplan.settings import Settings

SERVERS = pytest.mark.parametrize("territory", ["dk", "se"])  # main server, second server


@pytest.fixture(scope="module")
async def node(settings: Settings) -> AsyncIterator[IpfsNode]:
    ipfs = IpfsNode(settings.ipfs_url)
    assert await ipfs.ready(), f"no IPFS node at {settings.ipfs_url} (make test starts one)"
    yield ipfs
    await ipfs.close()


def refusal(response: httpx.Response) -> tuple[int, list[str]]:
    return response.status_code, codes(response.json())


@SERVERS
async def test_an_upload_is_stored_pinned_and_served_back_identical(
    client: httpx.AsyncClient, db: Database, node: IpfsNode, territory: str
) -> None:
    me = await account(client, db, territory)
    data = b"Lecture notes\n" + os.urandom(300_000).hex().encode()  # text, over one chunk
    result = uploaded(await upload(client, me["accessToken"], data, filename="notes.txt"))
    file = result["file"]
    assert file["mimeType"] == "text/plain"
    assert file["size"] == len(data)
    assert file["filename"] == "notes.txt"
    assert file["purpose"] == "ATTACHMENT"
    assert file["cid"].startswith("bafy")
    assert file["cid"] in await node.pins()
    served = await client.get(file["url"], headers={"Authorization": f"Bearer {me['accessToken']}"})
    assert served.status_code == 200
    assert served.content == data
    assert served.headers["content-type"].startswith("text/plain")
    assert served.headers["x-content-type-options"] == "nosniff"
    assert served.headers["etag"] == f'"{file["cid"]}"'
    assert "immutable" in served.headers["cache-control"]
    assert served.headers["content-disposition"] == 'attachment; filename="notes.txt"'


async def test_the_same_bytes_again_are_the_same_file(
    client: httpx.AsyncClient, db: Database, node: IpfsNode
) -> None:
    me = await account(client, db, "dk")
    data = b"same bytes " * 100
    first = uploaded(await upload(client, me["accessToken"], data, filename="a.txt"))
    rows, pins, _ = await stored(db, "dk", node)
    again = uploaded(await upload(client, me["accessToken"], data, filename="b.txt"))
    assert again["alreadyStored"] is True
    assert again["file"]["id"] == first["file"]["id"]
    assert (await stored(db, "dk", node))[:2] == (rows, pins)


async def test_a_lying_content_type_and_name_are_ignored(
    client: httpx.AsyncClient, db: Database
) -> None:
    me = await account(client, db, "dk")
    response = await upload(
        client, me["accessToken"], png(), filename="photo.jpg", content_type="image/jpeg"
    )
    file = uploaded(response)["file"]
    assert file["mimeType"] == "image/png"
    assert file["filename"] == "photo.png"


async def test_images_are_reencoded_without_exif_or_gps(
    client: httpx.AsyncClient, db: Database
) -> None:
    me = await account(client, db, "dk")
    original = jpeg_with_gps()
    assert Image.open(io.BytesIO(original)).getexif().get_ifd(0x8825)  # the input has GPS
    file = uploaded(await upload(client, me["accessToken"], original, filename="beach.jpg"))["file"]
    served = await client.get(file["url"], headers={"Authorization": f"Bearer {me['accessToken']}"})
    image = Image.open(io.BytesIO(served.content))
    assert image.format == "JPEG"
    assert (image.width, image.height) == (40, 30) == (file["width"], file["height"])
    assert dict(image.getexif()) == {}
    assert b"PhoneMaker" not in served.content
    assert file["cid"] != hashlib.sha256(original).hexdigest()


async def test_an_avatar_gets_square_variants(client: httpx.AsyncClient, db: Database) -> None:
    me = await account(client, db, "se")
    file = uploaded(
        await upload(client, me["accessToken"], png(300, 200), purpose="AVATAR", filename="me.png")
    )["file"]
    assert [(v["variant"], v["width"], v["height"], v["mimeType"]) for v in file["variants"]] == [
        ("64", 64, 64, "image/webp"),
        ("256", 256, 256, "image/webp"),
    ]
    small = await client.get(
        file["variants"][0]["url"], headers={"Authorization": f"Bearer {me['accessToken']}"}
    )
    assert Image.open(io.BytesIO(small.content)).size == (64, 64)


NOT_ALLOWED = (415, ["FILE_TYPE_NOT_ALLOWED"])
REFUSED = [
    pytest.param(b"MZ\x90\x00" + bytes(2000), "evil.png", "image/png", NOT_ALLOWED, id="exe"),
    pytest.param(b"<html><script>1</script></html>", "a.txt", "text/plain", NOT_ALLOWED, id="html"),
    pytest.param(b"", "empty.txt", "text/plain", (400, ["FILE_EMPTY"]), id="zero-bytes"),
]


@pytest.mark.parametrize(("data", "name", "claimed", "expected"), REFUSED)
async def test_refused_uploads_leave_nothing_behind(
    client: httpx.AsyncClient,
    db: Database,
    node: IpfsNode,
    data: bytes,
    name: str,
    claimed: str,
    expected: tuple[int, list[str]],
) -> None:
    me = await account(client, db, "dk")
    before = await stored(db, "dk", node)
    response = await upload(client, me["accessToken"], data, filename=name, content_type=claimed)
    assert refusal(response) == expected
    assert await stored(db, "dk", node) == before


async def test_an_oversized_image_is_cut_off_at_its_limit(
    client: httpx.AsyncClient, db: Database, node: IpfsNode
) -> None:
    me = await account(client, db, "dk")
    before = await stored(db, "dk", node)
    too_big = png() + bytes(10_000_001)  # a PNG's magic number, then past the 10 MB image limit
    response = await upload(client, me["accessToken"], too_big, filename="huge.png")
    assert refusal(response) == (413, ["FILE_TOO_LARGE"])
    assert await stored(db, "dk", node) == before


async def test_a_truncated_body_leaves_nothing_behind(
    client: httpx.AsyncClient, db: Database, node: IpfsNode
) -> None:
    me = await account(client, db, "dk")
    before = await stored(db, "dk", node)
    response = await upload(client, me["accessToken"], mp4(500_000), truncate=True)
    assert refusal(response) == (400, ["UPLOAD_INCOMPLETE"])
    assert await stored(db, "dk", node) == before


async def test_an_avatar_must_be_an_image(
    client: httpx.AsyncClient, db: Database, node: IpfsNode
) -> None:
    me = await account(client, db, "dk")
    before = await stored(db, "dk", node)
    body = (
        await upload(client, me["accessToken"], b"%PDF-1.4\n" + bytes(500), purpose="AVATAR")
    ).json()
    assert codes(body) == ["FILE_TYPE_NOT_ALLOWED"]
    assert body["errors"][0]["extensions"]["field"] == "purpose"
    assert await stored(db, "dk", node) == before


async def test_a_decompression_bomb_is_refused(
    client: httpx.AsyncClient, db: Database, node: IpfsNode
) -> None:
    me = await account(client, db, "dk")
    out = io.BytesIO()
    Image.new("L", (8000, 6000)).save(out, "PNG")  # 48 Mpx in ~50 KB, over the 40 Mpx default
    before = await stored(db, "dk", node)
    body = (await upload(client, me["accessToken"], out.getvalue(), filename="bomb.png")).json()
    assert codes(body) == ["IMAGE_REJECTED"]
    assert await stored(db, "dk", node) == before


async def test_uploads_need_a_preflight_header_and_a_caller(
    client: httpx.AsyncClient, db: Database, node: IpfsNode
) -> None:
    me = await account(client, db, "dk")
    before = await stored(db, "dk", node)
    forged = await upload(
        client, me["accessToken"], b"hello\n", headers={"GraphQL-Require-Preflight": ""}
    )
    assert refusal(forged) == (400, ["CSRF_BLOCKED"])
    anonymous = (await upload(client, None, b"hello\n")).json()
    assert codes(anonymous) == ["UNAUTHENTICATED"]
    assert await stored(db, "dk", node) == before


async def test_a_json_upload_variable_is_refused(client: httpx.AsyncClient, db: Database) -> None:
    me = await account(client, db, "dk")
    body = await call(
        client,
        "mutation($i: UploadFileInput!) { uploadFile(input: $i) { file { id } } }",
        {"i": {"file": "not a file", "purpose": "ATTACHMENT"}},
        token=me["accessToken"],
    )
    assert codes(body) == ["BAD_USER_INPUT"]


async def test_parts_out_of_order_are_refused(client: httpx.AsyncClient, db: Database) -> None:
    me = await account(client, db, "dk")
    file_first = (
        b"--unityplan-test-boundary-7d1e\r\n"
        b'Content-Disposition: form-data; name="0"; filename="a.txt"\r\n\r\nhello' + TAIL
    )
    response = await client.post(
        "/graphql",
        content=file_first,
        headers={**HEADERS, "Authorization": f"Bearer {me['accessToken']}"},
    )
    assert refusal(response) == (400, ["BAD_REQUEST"])


@SERVERS
async def test_storage_usage_counts_what_you_store(
    client: httpx.AsyncClient, db: Database, territory: str
) -> None:
    me = await account(client, db, territory)
    usage = "{ me { storageUsage { usedBytes quotaBytes territoryUsedBytes } } }"
    before = (await call(client, usage, token=me["accessToken"]))["data"]["me"]["storageUsage"]
    assert before["usedBytes"] == 0
    file = uploaded(await upload(client, me["accessToken"], b"x" * 5000, filename="x.txt"))["file"]
    after = (await call(client, usage, token=me["accessToken"]))["data"]["me"]["storageUsage"]
    assert after["usedBytes"] == file["size"] == 5000
    assert after["quotaBytes"] == 2_000_000_000
    assert after["territoryUsedBytes"] >= before["territoryUsedBytes"] + 5000


async def test_a_quota_is_enforced(settings: Settings, db: Database, node: IpfsNode) -> None:
    tight = settings.model_copy(update={"file_quota_user_bytes": 6000})
    app = create_app(tight, db)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://testserver"
    ) as quota_client:
        me = await account(quota_client, db, "dk")
        uploaded(await upload(quota_client, me["accessToken"], b"a" * 4000, filename="a.txt"))
        before = await stored(db, "dk", node)
        body = (await upload(quota_client, me["accessToken"], b"b" * 4000)).json()
        assert codes(body) == ["STORAGE_QUOTA_EXCEEDED"]
        assert await stored(db, "dk", node) == before
    await app.state.redis.aclose()
    await app.state.storage.node.close()


@SERVERS
async def test_an_upload_is_audited_and_announced(
    client: httpx.AsyncClient, db: Database, territory: str
) -> None:
    me = await account(client, db, territory)
    since = await last_audit_id(db)
    file = uploaded(await upload(client, me["accessToken"], b"minutes\n" * 10))["file"]
    assert "file.uploaded" in await audit_actions_since(db, since)
    async with db.connect(server_of(territory), territory) as conn:
        rows = await conn.execute(
            select(outbox.c.envelope).where(
                outbox.c.subject == f"unityplan.{territory}.file.uploaded"
            )
        )
        payloads = [e["payload"] for (e,) in rows]
    mine = [p for p in payloads if p["file_id"] == str(key_of(file["id"]))]
    assert len(mine) == 1
    assert mine[0]["purpose"] == "attachment"
