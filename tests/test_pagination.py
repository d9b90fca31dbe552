"""Connections page forward with opaque cursors and validated sizes."""

from __future__ import annotations

import httpx
import pytest

from tests.conftest import error_codes, gql

PAGE = """
query($first: Int, $after: String) {
  territories(first: $first, after: $after) {
    edges { cursor node { code } }
    pageInfo { hasNextPage hasPreviousPage endCursor }
  }
}
"""


async def test_walks_all_territories_in_pages_of_two(client: httpx.AsyncClient) -> None:
    everything = await gql(client, PAGE, {"first": 100})
    expected = [e["node"]["code"] for e in everything["data"]["territories"]["edges"]]
    assert expected == sorted(expected)
    seen: list[str] = []
    after = None
    while True:
        page = (await gql(client, PAGE, {"first": 2, "after": after}))["data"]["territories"]
        seen += [e["node"]["code"] for e in page["edges"]]
        assert page["pageInfo"]["hasPreviousPage"] is (after is not None)
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert seen == expected


async def test_kind_filter(client: httpx.AsyncClient) -> None:
    body = await gql(client, "{ territories(kind: FIRST_NATION) { nodes { code kind } } }")
    assert body["data"]["territories"]["nodes"] == [{"code": "fn_sami", "kind": "FIRST_NATION"}]


@pytest.mark.parametrize(
    ("first", "after"), [(-1, None), (101, None), (2, "not-a-cursor"), (2, "YzpESw")]
)
async def test_bad_page_arguments(client: httpx.AsyncClient, first: int, after: str | None) -> None:
    body = await gql(client, PAGE, {"first": first, "after": after})
    assert error_codes(body) == ["BAD_USER_INPUT"]
