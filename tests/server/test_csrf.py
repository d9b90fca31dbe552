"""CSRF prevention, GET safety, CORS, and error masking, on a tiny schema with a mutation.

The product schema's mutations belong to other areas and need accounts; a counter mutation on a
separate schema, served by the same view and transport (graph.server.app.GraphQLApp) with the same
extensions, shows exactly whether a request executed.
"""

from __future__ import annotations

import itertools
import logging
import re
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import strawberry
from starlette.applications import Starlette
from starlette.routing import Route
from strawberry.extensions import ParserCache

from db.engines import Database
from graph.errors import ErrorCodes
from graph.schema import Schema
from graph.server.app import GraphQLApp
from graph.server.csrf import cors_middleware
from graph.server.limits import DocumentLimits
from graph.server.policy import Policy

TOUCHES: list[int] = []


@strawberry.type
class Query:
    @strawberry.field
    def ping(self) -> str:
        return "pong"

    @strawberry.field
    def boom(self) -> str:
        raise RuntimeError('SELECT password FROM users -- File "/work/main/secret.py", line 1')


@strawberry.type
class Mutation:
    @strawberry.mutation
    def touch(self) -> int:
        TOUCHES.append(1)
        return len(TOUCHES)


def tiny_app(db: Database, policy: Policy) -> Starlette:
    tiny = Schema(
        query=Query,
        mutation=Mutation,
        extensions=[
            lambda: ErrorCodes(suggestions=policy.field_suggestions, mask=policy.mask_errors),
            ParserCache,
            lambda: DocumentLimits(policy),
        ],
    )
    view = GraphQLApp(db, graphiql=False, policy=policy, graphql_schema=tiny)
    return Starlette(
        routes=[Route("/graphql", view, methods=["GET", "POST"])],
        middleware=cors_middleware(policy),
    )


@pytest.fixture(scope="module")
async def tiny(db: Database) -> AsyncIterator[httpx.AsyncClient]:
    app = tiny_app(db, Policy(cors_origins=("https://app.example",)))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield client


QUERY = "{ ping }"
MUTATION = "mutation { touch }"
BODY = '{"query": "%s"}'
CONTENT_TYPES = [
    "application/json",
    "text/plain",
    "application/x-www-form-urlencoded",
    "multipart/form-data; boundary=x",
    None,
]
SIMPLE = {"text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x"}


def expected_post(content_type: str | None, preflight: bool) -> tuple[int, str | None]:
    """The matrix's rule: JSON runs; simple or missing types need the preflight header, and
    even with it only JSON bodies are parsed."""
    if content_type == "application/json":
        return 200, None
    if not preflight:
        return 400, "CSRF_BLOCKED"
    return 415, "UNSUPPORTED_MEDIA_TYPE"


@pytest.mark.parametrize(
    ("content_type", "preflight", "operation"),
    list(itertools.product(CONTENT_TYPES, [False, True], [QUERY, MUTATION])),
)
async def test_csrf_matrix_post(
    tiny: httpx.AsyncClient, content_type: str | None, preflight: bool, operation: str
) -> None:
    headers = {"accept": "application/json"}
    if content_type:
        headers["content-type"] = content_type
    if preflight:
        headers["graphql-require-preflight"] = "1"
    before = len(TOUCHES)
    response = await tiny.post("/graphql", content=BODY % operation, headers=headers)
    status, code = expected_post(content_type, preflight)
    assert response.status_code == status, response.text
    body = response.json()
    if code is None:
        assert "errors" not in body, body
        expected = {"ping": "pong"} if operation == QUERY else {"touch": before + 1}
        assert body["data"] == expected
    else:
        assert [e["extensions"]["code"] for e in body["errors"]] == [code]
        assert len(TOUCHES) == before  # nothing ran


@pytest.mark.parametrize(
    ("preflight", "operation", "get_allowed"),
    list(itertools.product([False, True], [QUERY, MUTATION], [True, False])),
)
async def test_csrf_matrix_get(
    db: Database, preflight: bool, operation: str, get_allowed: bool
) -> None:
    app = tiny_app(db, Policy(queries_over_get=get_allowed))
    headers = {"graphql-require-preflight": "1"} if preflight else {}
    before = len(TOUCHES)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        response = await client.get("/graphql", params={"query": operation}, headers=headers)
    assert len(TOUCHES) == before  # GET never mutates
    if operation == QUERY and get_allowed:
        assert response.status_code == 200
        assert response.json() == {"data": {"ping": "pong"}}
    else:
        assert response.status_code == 405
        assert response.headers["allow"] == "POST"
        assert response.json()["errors"][0]["extensions"]["code"] == "METHOD_NOT_ALLOWED"


async def test_cors_allows_only_listed_origins(tiny: httpx.AsyncClient) -> None:
    preflight = {
        "access-control-request-method": "POST",
        "access-control-request-headers": "content-type",
    }
    allowed = await tiny.options("/graphql", headers={"origin": "https://app.example", **preflight})
    assert allowed.status_code == 200
    assert allowed.headers["access-control-allow-origin"] == "https://app.example"
    assert allowed.headers["access-control-allow-credentials"] == "true"
    refused = await tiny.options(
        "/graphql", headers={"origin": "https://evil.example", **preflight}
    )
    assert refused.status_code == 400
    assert "access-control-allow-origin" not in refused.headers
    simple = await tiny.post(
        "/graphql", json={"query": QUERY}, headers={"origin": "https://evil.example"}
    )
    assert "access-control-allow-origin" not in simple.headers


def test_no_cors_without_origins() -> None:
    assert cors_middleware(Policy()) == []


async def test_unexpected_errors_are_masked_and_logged(
    tiny: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.ERROR, logger="unityplan.errors"):
        response = await tiny.post("/graphql", json={"query": "{ ping boom }"})
    assert response.status_code == 200
    body: dict[str, Any] = response.json()
    assert body["data"] is None or body["data"].get("ping") in (None, "pong")
    (error,) = body["errors"]
    assert error["message"] == "Internal server error."
    assert error["extensions"]["code"] == "INTERNAL_SERVER_ERROR"
    error_id = error["extensions"]["errorId"]
    assert re.fullmatch(r"[0-9a-f]{32}", error_id)
    assert "exception" not in error["extensions"]
    for leak in ("SELECT", "password", "secret.py", "/work/", "Traceback", "RuntimeError"):
        assert leak not in response.text
    # The log has everything, under the same id.
    assert error_id in caplog.text
    assert "SELECT password FROM users" in caplog.text
    assert "Traceback" in caplog.text


async def test_development_adds_type_and_message_but_no_traceback(db: Database) -> None:
    app = tiny_app(db, Policy(mask_errors=False))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        response = await client.post("/graphql", json={"query": "{ boom }"})
    (error,) = response.json()["errors"]
    assert error["message"] == "Internal server error."
    assert error["extensions"]["exception"]["type"] == "RuntimeError"
    assert "Traceback" not in response.text
