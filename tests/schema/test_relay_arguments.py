"""A refused `first`, `after`, `id` or `ids` names the argument at fault in `extensions.field`,
as every input-validation refusal does, so a client can point at what to fix."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest

from graph.ids import encode
from tests.conftest import gql

PAGE = "query($first: Int, $after: String) { territories(first: $first, after: $after) { nodes { code } } }"  # noqa: E501


def refusal(body: dict[str, Any]) -> tuple[str | None, str | None]:
    [error] = body["errors"]
    extensions = error.get("extensions", {})
    return extensions.get("code"), extensions.get("field")


@pytest.mark.parametrize(
    ("variables", "field"),
    [
        ({"first": -1}, "first"),
        ({"first": 101}, "first"),
        ({"first": 2, "after": "not-a-cursor"}, "after"),
    ],
)
async def test_bad_page_argument_is_named(
    client: httpx.AsyncClient, variables: dict[str, Any], field: str
) -> None:
    assert refusal(await gql(client, PAGE, variables)) == ("BAD_USER_INPUT", field)


MALFORMED = ["??", encode("Community", "dk", "not-a-uuid"), encode("Territory", "dk", "se")]


@pytest.mark.parametrize("malformed", MALFORMED)
async def test_malformed_node_id_is_named(client: httpx.AsyncClient, malformed: str) -> None:
    body = await gql(client, "query($id: ID!) { node(id: $id) { id } }", {"id": malformed})
    assert refusal(body) == ("BAD_USER_INPUT", "id")


@pytest.mark.parametrize(("count", "last"), [(1, m) for m in MALFORMED] + [(101, "??")])
async def test_refused_nodes_ids_are_named(
    client: httpx.AsyncClient, count: int, last: str
) -> None:
    """A malformed id, or one id too many: either way `ids` is at fault."""
    ids = [encode("Community", "dk", str(uuid.uuid4())) for _ in range(count - 1)] + [last]
    body = await gql(client, "query($ids: [ID!]!) { nodes(ids: $ids) { id } }", {"ids": ids})
    assert refusal(body) == ("BAD_USER_INPUT", "ids")
