"""Avatars as Files, who may read a file (``node`` and ``GET /files``), and range requests."""

from __future__ import annotations

import time
from typing import Any

import httpx
import pytest

from db.engines import Database
from tests.authkit import account, call, codes
from tests.conftest import StatementCounter
from tests.files import png, upload, uploaded

SET_AVATAR = """
mutation($i: UpdateProfileInput!) {
  updateProfile(input: $i) { profile { avatar { id cid mimeType variants { variant } } } }
}"""
SET_FIELD = """
mutation($i: SetFieldVisibilityInput!) { setFieldVisibility(input: $i) { privacy { preset } } }
"""
PROFILE_AVATAR = "query($id: ID!) { node(id: $id) { ... on Profile { avatar { id url } } } }"


def auth(token: str | None) -> dict[str, str]:
    return {} if token is None else {"Authorization": f"Bearer {token}"}


async def avatar_of(client: httpx.AsyncClient, db: Database, territory: str) -> dict[str, Any]:
    """A new person of ``territory`` whose avatar is set; their token, profile id and file."""
    me = await account(client, db, territory)
    token = me["accessToken"]
    file = uploaded(await upload(client, token, png(), purpose="AVATAR", filename="me.png"))
    body = await call(client, SET_AVATAR, {"i": {"avatar": file["file"]["id"]}}, token)
    assert "errors" not in body, body
    profile = await call(client, "{ me { profile { id } } }", token=token)
    return {
        "token": token,
        "profile": profile["data"]["me"]["profile"]["id"],
        "file": file["file"],
        "avatar": body["data"]["updateProfile"]["profile"]["avatar"],
    }


@pytest.mark.parametrize("territory", ["dk", "se"])
async def test_profile_avatar_is_the_uploaded_file(
    client: httpx.AsyncClient, db: Database, territory: str
) -> None:
    person = await avatar_of(client, db, territory)
    assert person["avatar"]["id"] == person["file"]["id"]
    assert person["avatar"]["mimeType"] == "image/png"
    assert [v["variant"] for v in person["avatar"]["variants"]] == ["64", "256"]


async def test_a_territory_avatar_is_served_to_the_territory_only(
    client: httpx.AsyncClient, db: Database
) -> None:
    person = await avatar_of(client, db, "dk")  # default preset TERRITORY
    neighbour = (await account(client, db, "dk"))["accessToken"]
    stranger = (await account(client, db, "se"))["accessToken"]
    url = person["file"]["url"]
    small = person["file"]["variants"][0]["url"]
    for token, status in ((neighbour, 200), (stranger, 404), (None, 404)):
        assert (await client.get(url, headers=auth(token))).status_code == status, token
        assert (await client.get(small, headers=auth(token))).status_code == status, token
        seen = await call(client, PROFILE_AVATAR, {"id": person["profile"]}, token)
        shown = (seen["data"]["node"] or {}).get("avatar")
        assert (shown is not None) == (status == 200), seen


async def test_a_private_avatar_is_hidden_from_everyone_else(
    client: httpx.AsyncClient, db: Database
) -> None:
    person = await avatar_of(client, db, "dk")
    body = await call(
        client, SET_FIELD, {"i": {"field": "AVATAR", "visibility": "ONLY_ME"}}, person["token"]
    )
    assert "errors" not in body, body
    neighbour = (await account(client, db, "dk"))["accessToken"]
    url = person["file"]["url"]
    assert (await client.get(url, headers=auth(neighbour))).status_code == 404
    assert (await client.get(url, headers=auth(person["token"]))).status_code == 200
    node = await call(
        client, "query($id: ID!) { node(id: $id) { id } }", {"id": person["file"]["id"]}, neighbour
    )
    assert codes(node) == ["NOT_FOUND"]


async def test_a_public_avatar_is_cached_publicly(client: httpx.AsyncClient, db: Database) -> None:
    person = await avatar_of(client, db, "dk")
    body = await call(
        client,
        "mutation { setProfileVisibility(input: {visibility: PUBLIC}) { privacy { preset } } }",
        token=person["token"],
    )
    assert "errors" not in body, body
    served = await client.get(person["file"]["url"])
    assert served.status_code == 200
    assert served.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert served.headers["content-disposition"] == 'inline; filename="me.png"'


async def test_unreferenced_files_are_their_owners_only(
    client: httpx.AsyncClient, db: Database
) -> None:
    owner = (await account(client, db, "dk"))["accessToken"]
    other = (await account(client, db, "dk"))["accessToken"]
    file = uploaded(await upload(client, owner, b"private notes\n"))["file"]
    assert (await client.get(file["url"], headers=auth(other))).status_code == 404
    node = await call(client, "query($id: ID!) { node(id: $id) { id } }", {"id": file["id"]}, other)
    assert codes(node) == ["NOT_FOUND"]


async def test_an_avatar_must_be_your_own_avatar_upload(
    client: httpx.AsyncClient, db: Database
) -> None:
    someone = await avatar_of(client, db, "dk")
    me = (await account(client, db, "dk"))["accessToken"]
    theirs = await call(client, SET_AVATAR, {"i": {"avatar": someone["file"]["id"]}}, me)
    assert codes(theirs) == ["NOT_FOUND"]
    assert theirs["errors"][0]["extensions"]["field"] == "avatar"
    attachment = uploaded(await upload(client, me, png(), filename="x.png"))["file"]
    wrong = await call(client, SET_AVATAR, {"i": {"avatar": attachment["id"]}}, me)
    assert codes(wrong) == ["FILE_TYPE_NOT_ALLOWED"]


async def test_unknown_or_mismatched_files_are_404_at_once(
    client: httpx.AsyncClient, db: Database
) -> None:
    person = await avatar_of(client, db, "dk")
    file = person["file"]
    unknown = "bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku"
    started = time.monotonic()
    for url in (
        f"/files/{unknown}?id={file['id']}",  # a CID the row does not have
        f"/files/{file['cid']}",  # no id
        f"/files/not-a-cid?id={file['id']}",
        f"/files/{file['cid']}?id=Zm9v",
    ):
        assert (await client.get(url, headers=auth(person["token"]))).status_code == 404, url
    assert time.monotonic() - started < 2


async def test_range_requests(client: httpx.AsyncClient, db: Database) -> None:
    token = (await account(client, db, "dk"))["accessToken"]
    text = (b"0123456789abcdef" * 40_000)[:600_000]
    file = uploaded(await upload(client, token, text, filename="r.txt"))["file"]
    url = file["url"]

    async def get(range_header: str) -> httpx.Response:
        return await client.get(url, headers={**auth(token), "Range": range_header})

    middle = await get("bytes=262140-262150")  # across the first chunk's edge
    assert middle.status_code == 206
    assert middle.content == text[262140:262151]
    assert middle.headers["content-range"] == f"bytes 262140-262150/{len(text)}"
    suffix = await get("bytes=-10")
    assert suffix.content == text[-10:]
    open_ended = await get("bytes=599990-")
    assert open_ended.content == text[599990:]
    beyond = await get(f"bytes={len(text)}-")
    assert beyond.status_code == 416
    assert beyond.headers["content-range"] == f"bytes */{len(text)}"


async def test_avatars_under_many_profiles_cost_no_more_statements(
    client: httpx.AsyncClient, db: Database, statements: StatementCounter
) -> None:
    people = [await avatar_of(client, db, "dk") for _ in range(6)]
    viewer = (await account(client, db, "dk"))["accessToken"]
    query = (
        "query($ids: [ID!]!) { nodes(ids: $ids) { ... on Profile { avatar { id url "
        "variants { variant url } owner { id } } } } }"
    )

    async def count(group: list[dict[str, Any]]) -> int:
        before = statements.count
        body = await call(client, query, {"ids": [p["profile"] for p in group]}, viewer)
        shown = [n["avatar"]["id"] for n in body["data"]["nodes"]]
        assert shown == [p["file"]["id"] for p in group], body
        return statements.count - before

    assert await count(people[:2]) == await count(people)
