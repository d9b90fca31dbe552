"""Hostile input the outside probe sent: cursors with control characters, duplicate JSON keys."""

from __future__ import annotations

import base64
import logging

import httpx
import pytest

from tests.conftest import error_codes, gql


def _cursor(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


@pytest.mark.parametrize("raw", [b"c:\x00", b"c:a\x00b", b"c:\x1b[2J", b"c:\x7f"])
async def test_control_characters_in_a_community_cursor_are_bad_input(
    client: httpx.AsyncClient, raw: bytes, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.ERROR, logger="unityplan.errors"):
        body = await gql(
            client,
            'query($a: String) { communities(territory: "dk", after: $a) { edges { cursor } } }',
            {"a": _cursor(raw)},
        )
    assert error_codes(body) == ["BAD_USER_INPUT"]
    assert body["errors"][0]["extensions"].get("field") == "after"
    assert not caplog.records  # refused as input, never logged as an unexpected error


async def test_every_connection_refuses_the_same_nul_cursor(client: httpx.AsyncClient) -> None:
    for query in (
        "query($a: String) { territories(after: $a) { edges { cursor } } }",
        'query($a: String) { communities(territory: "dk", after: $a) { edges { cursor } } }',
        'query($a: String) { territory(id: "dk") { communities(after: $a) { edges { cursor } } } }',
    ):
        body = await gql(client, query, {"a": _cursor(b"c:\x00")})
        assert error_codes(body) == ["BAD_USER_INPUT"], (query, body)


async def test_a_node_id_with_a_nul_is_bad_input(client: httpx.AsyncClient) -> None:
    forged = base64.urlsafe_b64encode(b"Community:dk:\x00").decode().rstrip("=")
    body = await gql(client, "query($id: ID!) { node(id: $id) { id } }", {"id": forged})
    assert error_codes(body) == ["BAD_USER_INPUT"]


async def test_duplicate_keys_in_the_request_object_are_refused(
    client: httpx.AsyncClient,
) -> None:
    raw = b'{"query": "{ __typename }", "query": "mutation { logout { endedSessions } }"}'
    response = await client.post(
        "/graphql", content=raw, headers={"content-type": "application/json"}
    )
    assert response.status_code == 400
    assert error_codes(response.json()) == ["BAD_REQUEST"]


async def test_duplicate_keys_in_a_batch_item_are_refused(client: httpx.AsyncClient) -> None:
    raw = b'[{"query": "{ __typename }"}, {"query": "{ a: __typename }", "query": "{ b }"}]'
    response = await client.post(
        "/graphql", content=raw, headers={"content-type": "application/json"}
    )
    assert response.status_code == 400
    assert error_codes(response.json()) == ["BAD_REQUEST"]


async def test_duplicate_keys_in_get_variables_are_refused(client: httpx.AsyncClient) -> None:
    response = await client.get(
        "/graphql",
        params={"query": "query($a: Int) { __typename }", "variables": '{"a": 1, "a": 2}'},
    )
    assert response.status_code == 400
    assert error_codes(response.json()) == ["BAD_REQUEST"]
