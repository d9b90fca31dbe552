"""The front door: media types and status codes, limits, production defaults, malformed requests.

Each limit is shown at its edge: a document exactly at the limit runs, one just over is refused
before execution with its own code. Limits are lowered through settings so the edge documents stay
readable; the defaults are checked separately against the README.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from graphql import DocumentNode, GraphQLError, GraphQLSchema, get_introspection_query, parse
from graphql import build_schema as build_graphql_schema
from strawberry.schema import schema as strawberry_schema_module

from db.engines import Database
from domain.callers import Caller
from graph.errors import coded
from graph.schema import build_schema, schema
from graph.server.app import create_app
from graph.server.limits import measure
from graph.server.policy import policy
from graph.server.transport import negotiate
from tests.authkit import new_account
from unityplan.settings import Settings

GRAPHQL_RESPONSE = "application/graphql-response+json"
# Every response body the running test receives; scanned for leaks when that test ends.
SEEN: list[str] = []


@asynccontextmanager
async def front_door(
    settings: Settings, db: Database, **overrides: Any
) -> AsyncIterator[httpx.AsyncClient]:
    """A client of the real app built with ``settings`` changed by ``overrides``."""
    app = create_app(settings.model_copy(update=overrides), db)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield client


async def post(
    client: httpx.AsyncClient,
    body: object,
    *,
    accept: str | None = GRAPHQL_RESPONSE,
    headers: dict[str, str] | None = None,
) -> httpx.Response:
    all_headers = {"content-type": "application/json", **(headers or {})}
    if accept:
        all_headers["accept"] = accept
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    response = await client.post("/graphql", content=raw, headers=all_headers)
    SEEN.append(response.text)
    return response


def codes(response: httpx.Response) -> list[str]:
    return [e.get("extensions", {}).get("code") for e in response.json().get("errors", [])]


def messages(response: httpx.Response) -> list[str]:
    return [e["message"] for e in response.json().get("errors", [])]


# --- media types and status codes -----------------------------------------------------------


@pytest.mark.parametrize(
    ("accept", "expected"),
    [
        (None, "application/json"),
        ("", "application/json"),
        ("*/*", "application/json"),
        ("application/*", "application/json"),
        ("application/json", "application/json"),
        (GRAPHQL_RESPONSE, GRAPHQL_RESPONSE),
        (f"{GRAPHQL_RESPONSE}, application/json;q=0.9", GRAPHQL_RESPONSE),
        (f"application/json, {GRAPHQL_RESPONSE}", GRAPHQL_RESPONSE),
        (f"application/json, {GRAPHQL_RESPONSE};q=0.5", "application/json"),
        ("text/html, */*;q=0.8", "application/json"),
        ("text/html", None),
        ("application/json;q=0", None),
    ],
)
def test_accept_negotiation(accept: str | None, expected: str | None) -> None:
    assert negotiate(accept) == expected


async def test_request_errors_are_400_without_data_for_graphql_response_json(
    client: httpx.AsyncClient,
) -> None:
    cases = {
        "{": "GRAPHQL_PARSE_FAILED",
        "{ noSuchField }": "GRAPHQL_VALIDATION_FAILED",
        "query Q($id: ID!) { node(id: $id) { id } }": "BAD_USER_INPUT",  # variable missing
    }
    for query, code in cases.items():
        modern = await post(client, {"query": query})
        assert modern.status_code == 400, modern.text
        assert modern.headers["content-type"].startswith(GRAPHQL_RESPONSE)
        assert "data" not in modern.json()
        assert codes(modern) == [code]
        legacy = await post(client, {"query": query}, accept="application/json")
        assert legacy.status_code == 200, legacy.text
        assert legacy.headers["content-type"].startswith("application/json")
        assert codes(legacy) == [code]


async def test_execution_errors_keep_data_and_200(client: httpx.AsyncClient) -> None:
    response = await post(client, {"query": '{ territory(id: "fi") { id } }'})
    assert response.status_code == 200
    body = response.json()
    assert "data" in body
    assert codes(response) == ["NOT_FOUND"]


async def test_get_runs_queries_but_never_mutations(client: httpx.AsyncClient) -> None:
    ok = await client.get("/graphql", params={"query": "{ __typename }"})
    assert ok.status_code == 200
    assert ok.json() == {"data": {"__typename": "Query"}}
    refused = await client.get("/graphql", params={"query": "mutation { __typename }"})
    assert refused.status_code == 405
    assert refused.headers["allow"] == "POST"
    assert codes(refused) == ["METHOD_NOT_ALLOWED"]


# --- limits -------------------------------------------------------------------------------

# (setting overrides, document at the limit, document just over, code of the refusal)
LIMITS = {
    "depth": (
        {"max_query_depth": 3},
        "{ territories { nodes { code } } }",
        "{ territories { nodes { communities { __typename } } } }",
        "QUERY_TOO_DEEP",
    ),
    "aliases": (
        {"max_aliases": 2},
        "{ a: __typename b: __typename }",
        "{ a: __typename b: __typename c: __typename }",
        "TOO_MANY_ALIASES",
    ),
    "directives": (
        {"max_directives": 2},
        "{ __typename @include(if: true) t: __typename @skip(if: false) }",
        "{ __typename @include(if: true) t: __typename @skip(if: false)"
        " u: __typename @skip(if: false) }",
        "TOO_MANY_DIRECTIVES",
    ),
    "tokens": (
        {"max_tokens": 4},
        "{ __typename __typename }",  # 4 tokens
        "{ __typename __typename __typename }",  # 5 tokens
        "TOO_MANY_TOKENS",
    ),
    "cost": (
        # territories(first: 5) { nodes { code } } costs 1 + 5 x 1 = 6
        {"max_query_cost": 6},
        "{ territories(first: 5) { nodes { code } } }",
        "{ territories(first: 6) { nodes { code } } }",
        "QUERY_TOO_COMPLEX",
    ),
    "cost, default page size": (
        # no `first`: the default page of 20 -> 1 + 20 x 1 = 21
        {"max_query_cost": 21},
        "{ territories { nodes { code } } }",
        '{ territories { nodes { code } } t: territory(id: "dk") { code } }',
        "QUERY_TOO_COMPLEX",
    ),
    "page size": (
        {"max_page_size": 10},
        "{ territories(first: 10) { nodes { code } } }",
        "{ territories(first: 11) { nodes { code } } }",
        "BAD_USER_INPUT",
    ),
}


@pytest.mark.parametrize("name", LIMITS)
async def test_limit_at_the_edge(name: str, settings: Settings, db: Database) -> None:
    overrides, at_limit, over_limit, code = LIMITS[name]
    async with front_door(settings, db, **overrides) as client:
        passed = await post(client, {"query": at_limit})
        assert passed.status_code == 200, passed.text
        assert "errors" not in passed.json(), passed.text
        refused = await post(client, {"query": over_limit})
        assert refused.status_code == 400, refused.text
        assert "data" not in refused.json()  # refused before execution
        assert code in codes(refused), refused.text


# The two documents of issue 10: each used to reach graphql-core's validator, which answered the
# 500 unknown directives with 100 errors (12 KB) although at most 20 directives are allowed.
FIVE_HUNDRED_DIRECTIVES = "{ __typename " + "@aa " * 500 + "}"
THOUSAND_ALIASES = "{ " + "a:__typename " * 1000 + "}"  # 13 KB, under max_document_bytes


@pytest.fixture
def validations(monkeypatch: pytest.MonkeyPatch) -> list[DocumentNode]:
    """Every document graphql-core's validator is entered with (a spy where Strawberry calls it)."""
    entered: list[DocumentNode] = []
    real = strawberry_schema_module.validate

    def spy(schema: GraphQLSchema, document: DocumentNode, *args: Any, **kwargs: Any) -> Any:
        entered.append(document)
        return real(schema, document, *args, **kwargs)

    monkeypatch.setattr(strawberry_schema_module, "validate", spy)
    return entered


@pytest.mark.parametrize(
    ("overrides", "document", "code"),
    [
        ({}, FIVE_HUNDRED_DIRECTIVES, "TOO_MANY_DIRECTIVES"),
        # 3,000 tokens: with the default max_tokens the parser itself stops it.
        ({}, THOUSAND_ALIASES, "TOO_MANY_TOKENS"),
        ({"max_tokens": 10_000}, THOUSAND_ALIASES, "TOO_MANY_ALIASES"),
        ({"max_tokens": 10_000}, FIVE_HUNDRED_DIRECTIVES, "TOO_MANY_DIRECTIVES"),
    ],
)
async def test_over_limit_documents_get_one_error_before_validation(
    overrides: dict[str, Any],
    document: str,
    code: str,
    validations: list[DocumentNode],
    settings: Settings,
    db: Database,
) -> None:
    prod = {**production_overrides(), "trusted_documents": "allow", **overrides}
    async with front_door(settings, db, **prod) as client:
        refused = await post(client, {"query": document})
        assert refused.status_code == 400, refused.text
        assert codes(refused) == [code]
        assert validations == []
        # The spy sees what reaches the validator: a fresh valid document does.
        control = await post(client, {"query": "{ unseen: __typename }"})
        assert control.json() == {"data": {"unseen": "Query"}}
        assert len(validations) == 1


async def test_cost_and_page_size_read_variables(settings: Settings, db: Database) -> None:
    query = "query Q($n: Int) { territories(first: $n) { nodes { code } } }"
    async with front_door(settings, db, max_query_cost=6, max_page_size=6) as client:
        passed = await post(client, {"query": query, "variables": {"n": 5}})
        assert passed.status_code == 200, passed.text
        refused = await post(client, {"query": query, "variables": {"n": 6}})
        assert codes(refused) == ["QUERY_TOO_COMPLEX"]
        too_big = await post(client, {"query": query, "variables": {"n": 7}})
        assert set(codes(too_big)) == {"BAD_USER_INPUT", "QUERY_TOO_COMPLEX"}


async def test_cost_reads_variables_as_execution_coerces_them(
    settings: Settings, db: Database
) -> None:
    """`6.0` coerces to the Int 6 at execution, so the cost must count it as 6, not as a default
    page; the same for an operation default and an explicit null (the resolver's default page)."""
    query = "query Q($n: Int) { territories(first: $n) { nodes { code } } }"
    async with front_door(settings, db, max_query_cost=6, max_page_size=6) as client:
        floated = await post(client, {"query": query, "variables": {"n": 6.0}})
        assert codes(floated) == ["QUERY_TOO_COMPLEX"], floated.text
        too_big = await post(client, {"query": query, "variables": {"n": 7.0}})
        assert set(codes(too_big)) == {"BAD_USER_INPUT", "QUERY_TOO_COMPLEX"}, too_big.text
        passed = await post(client, {"query": query, "variables": {"n": 5.0}})
        assert passed.status_code == 200, passed.text
        assert "errors" not in passed.json(), passed.text
    nested = (
        "query Q($n: Int) { territories(first: $n) { nodes { communities(first: $n) {"
        " nodes { members(first: $n) { nodes { __typename } } } } } } }"
    )
    as_int = measure(schema._schema, parse(nested), {"n": 100})[1]
    assert measure(schema._schema, parse(nested), {"n": 100.0})[1] == as_int
    defaulted = "query Q($n: Int = 7) { territories(first: $n) { nodes { code } } }"
    assert measure(schema._schema, parse(defaulted), {})[1] == 1 + 7
    assert measure(schema._schema, parse(defaulted), {"n": None})[1] == 1 + 20


def test_cost_multiplies_nested_page_sizes() -> None:
    nested = "{ territories(first: 2) { nodes { communities(first: 3) { nodes { name } } } } }"
    # territories 1 + 2 x (nodes 1 + (communities 1 + 3 x (nodes 1)))
    assert measure(schema._schema, parse(nested)) == (5, 1 + 2 * (1 + (1 + 3 * 1)))
    fragment = (
        "{ a: territories(first: 2) { ...T } b: territories(first: 4) { ...T } }"
        " fragment T on TerritoryConnection { nodes { code } }"
    )
    assert measure(schema._schema, parse(fragment))[1] == (1 + 2) + (1 + 4)
    nodes = '{ nodes(ids: ["a", "b", "c"]) { id } }'
    assert measure(schema._schema, parse(nodes))[1] == 1


def test_cost_counts_last_when_first_is_absent() -> None:
    """A connection with both arguments: `last` alone must not count as a default page."""
    sdl = build_graphql_schema(
        "type Query { items(first: Int, last: Int): ItemConnection }"
        " type ItemConnection { nodes: [Item] } type Item { id: ID }"
    )
    assert measure(sdl, parse("{ items(last: 100) { nodes { id } } }"))[1] == 1 + 100
    assert measure(sdl, parse("{ items(first: 3, last: 50) { nodes { id } } }"))[1] == 1 + 50
    assert measure(sdl, parse("{ items { nodes { id } } }"))[1] == 1 + 20


async def test_document_bytes_at_the_edge(settings: Settings, db: Database) -> None:
    query = "{ __typename }"
    async with front_door(settings, db, max_document_bytes=len(query)) as client:
        assert (await post(client, {"query": query})).status_code == 200
        refused = await post(client, {"query": query + " "})
        assert refused.status_code == 413
        assert codes(refused) == ["DOCUMENT_TOO_LARGE"]


async def test_body_bytes_at_the_edge(settings: Settings, db: Database) -> None:
    body = json.dumps({"query": "{ __typename }"}).encode()
    async with front_door(settings, db, max_body_bytes=100) as client:
        passed = await post(client, body + b" " * (100 - len(body)))
        assert passed.status_code == 200, passed.text
        refused = await post(client, body + b" " * (101 - len(body)))
        assert refused.status_code == 413
        assert codes(refused) == ["PAYLOAD_TOO_LARGE"]


async def test_batches_are_off_by_default_and_bounded_when_on(
    client: httpx.AsyncClient, settings: Settings, db: Database
) -> None:
    two = [{"query": "{ __typename }"}, {"query": "{ a: __typename }"}]
    refused = await post(client, two)
    assert refused.status_code == 400
    assert codes(refused) == ["BATCHING_DISABLED"]
    async with front_door(settings, db, batch_requests=2) as batching:
        passed = await post(batching, two)
        assert passed.status_code == 200
        assert passed.json() == [{"data": {"__typename": "Query"}}, {"data": {"a": "Query"}}]
        over = await post(batching, [*two, {"query": "{ __typename }"}])
        assert over.status_code == 400
        assert codes(over) == ["BATCH_TOO_LARGE"]


async def test_introspection_is_exempt_from_depth_and_cost_but_bounded(
    settings: Settings, db: Database
) -> None:
    async with front_door(settings, db, max_query_depth=2, max_query_cost=2) as client:
        full = await post(client, {"query": get_introspection_query(descriptions=True)})
        assert full.status_code == 200, full.text
        assert full.json()["data"]["__schema"]["queryType"]["name"] == "Query"
        # Introspection's own recursion stays bounded (graphql-core's MaxIntrospectionDepthRule).
        deep = "{ __schema { types { fields { type { fields { type { fields { name } } } } } } } }"
        refused = await post(client, {"query": deep})
        assert refused.status_code == 400
        assert "Maximum introspection depth exceeded" in messages(refused)
        # ...and the other limits still apply to it.
    async with front_door(settings, db, max_aliases=0) as client:
        aliased = await post(client, {"query": "{ s: __schema { queryType { name } } }"})
        assert codes(aliased) == ["TOO_MANY_ALIASES"]


def test_defaults_match_the_readme() -> None:
    defaults = Settings()
    readme = Path(__file__).resolve().parents[2].joinpath("README.md").read_text()
    for name in (
        "max_query_depth",
        "max_aliases",
        "max_directives",
        "max_tokens",
        "max_document_bytes",
        "max_body_bytes",
        "max_query_cost",
        "max_page_size",
        "batch_requests",
    ):
        value = getattr(defaults, name)
        row = re.search(rf"\| `{name.upper()}` \| `([^`]*)` \|", readme)
        assert row, f"{name.upper()} is not in the README's settings table"
        assert row.group(1).replace("_", "") == str(value), name


# --- UNITYPLAN_ENV=production ---------------------------------------------------------------


def test_production_switches_every_default_and_each_can_be_overridden() -> None:
    development = policy(Settings(unityplan_env="development"))
    assert development.introspection == development.field_suggestions == "all"
    assert development.graphiql
    assert development.queries_over_get
    assert not development.mask_errors
    production = policy(Settings(unityplan_env="production", identity_hash_key="k"))
    assert production.introspection == production.field_suggestions == "authenticated"
    assert not production.graphiql
    assert not production.queries_over_get
    assert production.mask_errors
    overridden = policy(
        Settings(
            unityplan_env="production",
            identity_hash_key="k",
            introspection="all",
            field_suggestions="none",
            graphiql=True,
            queries_over_get=True,
            mask_errors=False,
        )
    )
    assert overridden.introspection == "all"
    assert overridden.field_suggestions == "none"
    assert overridden.graphiql
    assert overridden.queries_over_get
    assert not overridden.mask_errors


def production_overrides() -> dict[str, Any]:
    """What production requires besides UNITYPLAN_ENV: the identity key and a signing key."""
    pem = (
        Ed25519PrivateKey.generate()
        .private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        .decode()
    )
    return {
        "unityplan_env": "production",
        "identity_hash_key": "k",
        "jwt_private_keys": {"prod": pem},
        "jwt_active_kid": "prod",
    }


async def test_production_front_door(settings: Settings, db: Database) -> None:
    # Anonymous free text is what these checks send; production's default of running only
    # registered documents for anonymous callers is shown in tests/server/test_trusted_documents.py.
    prod = {**production_overrides(), "trusted_documents": "allow"}
    async with front_door(settings, db, **prod) as client:
        introspection = await post(client, {"query": "{ __schema { queryType { name } } }"})
        assert introspection.status_code == 400
        assert codes(introspection) == ["INTROSPECTION_DISABLED"]
        single_type = await post(client, {"query": '{ __type(name: "Query") { name } }'})
        assert codes(single_type) == ["INTROSPECTION_DISABLED"]
        typename = await post(client, {"query": "{ __typename }"})
        assert typename.json() == {"data": {"__typename": "Query"}}
        typo = await post(client, {"query": "{ territorie { nodes { id } } }"})
        assert codes(typo) == ["GRAPHQL_VALIDATION_FAILED"]
        assert messages(typo) == ["Cannot query field 'territorie' on type 'Query'."]
        page = await client.get("/graphql", headers={"accept": "text/html"})
        assert page.status_code == 405  # no GraphiQL, and GET is off
        assert "<html" not in page.text.lower()
        get = await client.get("/graphql", params={"query": "{ __typename }"})
        assert get.status_code == 405
        assert get.headers["allow"] == "POST"
        assert codes(get) == ["METHOD_NOT_ALLOWED"]
    async with front_door(settings, db, **prod, introspection="all", queries_over_get=True) as c:
        allowed = await post(c, {"query": "{ __schema { queryType { name } } }"})
        assert allowed.json() == {"data": {"__schema": {"queryType": {"name": "Query"}}}}
        get = await c.get("/graphql", params={"query": "{ __typename }"})
        assert get.status_code == 200


async def test_production_introspection_over_http_with_a_real_token(
    settings: Settings, db: Database
) -> None:
    """A signed-in caller (Bearer access token) introspects and gets suggestions; anonymous not."""
    prod = {
        **production_overrides(),
        "trusted_documents": "allow",
        "redis_key_prefix": "unityplan-test-prod-introspection:",
    }
    async with front_door(settings, db, **prod) as client:
        token = (await new_account(client, db, "dk"))["accessToken"]
        bearer = {"authorization": f"Bearer {token}"}
        schema_query = {"query": "{ __schema { queryType { name } } }"}
        assert codes(await post(client, schema_query)) == ["INTROSPECTION_DISABLED"]
        signed_in = await post(client, schema_query, headers=bearer)
        assert signed_in.json() == {"data": {"__schema": {"queryType": {"name": "Query"}}}}
        typo = {"query": "{ territorie { nodes { id } } }"}
        assert "Did you mean" not in messages(await post(client, typo))[0]
        assert "Did you mean" in messages(await post(client, typo, headers=bearer))[0]


async def test_development_keeps_suggestions_and_introspection(
    client: httpx.AsyncClient,
) -> None:
    typo = await post(client, {"query": "{ territorie { nodes { id } } }"})
    assert "Did you mean 'territories' or 'territory'?" in messages(typo)[0]
    introspection = await post(client, {"query": "{ __schema { queryType { name } } }"})
    assert introspection.status_code == 200
    page = await client.get("/graphql", headers={"accept": "text/html"})
    assert page.status_code == 200
    assert "graphiql" in page.text.lower()


async def test_authenticated_callers_introspect_and_see_suggestions_in_production() -> None:
    production = build_schema(policy(Settings(unityplan_env="production", identity_hash_key="k")))
    signed_in = SimpleNamespace(caller=Caller(user_id="u1"))
    anonymous = SimpleNamespace(caller=Caller())
    query = "{ __schema { queryType { name } } }"
    assert (await production.execute(query, context_value=signed_in)).errors is None
    refused = await production.execute(query, context_value=anonymous)
    assert refused.errors
    assert refused.errors[0].extensions == {"code": "INTROSPECTION_DISABLED"}
    typo = "{ territorie { nodes { id } } }"
    shown = await production.execute(typo, context_value=signed_in)
    assert shown.errors
    assert "Did you mean" in shown.errors[0].message
    hidden = await production.execute(typo, context_value=anonymous)
    assert hidden.errors
    assert "Did you mean" not in hidden.errors[0].message


# --- malformed requests ----------------------------------------------------------------------

DEEP_JSON = b'{"query": "{ __typename }", "variables": {"a": ' + b"[" * 40 + b"]" * 40 + b"}}"
VERY_DEEP_JSON = b"[" * 100_000 + b"]" * 100_000

# (description, raw body, content type, expected status, expected code)
MALFORMED: list[tuple[str, bytes, str | None, int, str]] = [
    ("invalid UTF-8", b'{"query": "{ \xff }"}', "application/json", 400, "BAD_REQUEST"),
    ("lone surrogate", b'{"query": "\\ud800"}', "application/json", 400, "BAD_REQUEST"),
    ("not JSON", b'{"query": ', "application/json", 400, "BAD_REQUEST"),
    ("empty body", b"", "application/json", 400, "BAD_REQUEST"),
    ("JSON null", b"null", "application/json", 400, "BAD_REQUEST"),
    ("JSON string", b'"{ __typename }"', "application/json", 400, "BAD_REQUEST"),
    ("JSON number", b"1", "application/json", 400, "BAD_REQUEST"),
    ("JSON array", b'[{"query": "{ __typename }"}]', "application/json", 400, "BATCHING_DISABLED"),
    ("empty array", b"[]", "application/json", 400, "BATCHING_DISABLED"),
    ("deeply nested variables", DEEP_JSON, "application/json", 400, "BAD_REQUEST"),
    ("very deeply nested JSON", VERY_DEEP_JSON, "application/json", 400, "BAD_REQUEST"),
    (
        "huge integer",
        b'{"query": "{ __typename }", "x": 1' + b"0" * 400 + b"}",
        "application/json",
        400,
        "BAD_REQUEST",
    ),
    ("no query", b'{"variables": {}}', "application/json", 400, "BAD_REQUEST"),
    ("query null", b'{"query": null}', "application/json", 400, "BAD_REQUEST"),
    ("query number", b'{"query": 1}', "application/json", 400, "BAD_REQUEST"),
    ("query object", b'{"query": {"a": 1}}', "application/json", 400, "BAD_REQUEST"),
    (
        "variables string",
        b'{"query": "{ __typename }", "variables": "{}"}',
        "application/json",
        400,
        "BAD_REQUEST",
    ),
    (
        "variables array",
        b'{"query": "{ __typename }", "variables": []}',
        "application/json",
        400,
        "BAD_REQUEST",
    ),
    (
        "operationName number",
        b'{"query": "{ __typename }", "operationName": 1}',
        "application/json",
        400,
        "BAD_REQUEST",
    ),
    (
        "operationName array",
        b'{"query": "{ __typename }", "operationName": ["Q"]}',
        "application/json",
        400,
        "BAD_REQUEST",
    ),
    (
        "extensions string",
        b'{"query": "{ __typename }", "extensions": "x"}',
        "application/json",
        400,
        "BAD_REQUEST",
    ),
    (
        "oversized body",
        b'{"query": "{ __typename }", "pad": "' + b"x" * 300_000 + b'"}',
        "application/json",
        413,
        "PAYLOAD_TOO_LARGE",
    ),
    (
        "oversized document",
        json.dumps({"query": "{ __typename }" + " " * 17_000}).encode(),
        "application/json",
        413,
        "DOCUMENT_TOO_LARGE",
    ),
    ("XML", b"<query/>", "application/xml", 415, "UNSUPPORTED_MEDIA_TYPE"),
    (
        "application/graphql",
        b"{ __typename }",
        "application/graphql",
        415,
        "UNSUPPORTED_MEDIA_TYPE",
    ),
    (
        "JSON in another charset",
        b'{"query": "{ __typename }"}',
        "application/json; charset=latin-1",
        415,
        "UNSUPPORTED_MEDIA_TYPE",
    ),
    (
        "octet-stream",
        b'{"query": "{ __typename }"}',
        "application/octet-stream",
        415,
        "UNSUPPORTED_MEDIA_TYPE",
    ),
    ("unparsable content type", b'{"query": "{ __typename }"}', ";;;", 400, "CSRF_BLOCKED"),
    ("no content type", b'{"query": "{ __typename }"}', None, 400, "CSRF_BLOCKED"),
    ("text/plain", b'{"query": "{ __typename }"}', "text/plain", 400, "CSRF_BLOCKED"),
]


@pytest.mark.parametrize(
    ("raw", "content_type", "status", "code"),
    [case[1:] for case in MALFORMED],
    ids=[case[0] for case in MALFORMED],
)
async def test_malformed_requests_get_a_clear_4xx(
    client: httpx.AsyncClient, raw: bytes, content_type: str | None, status: int, code: str
) -> None:
    headers = {"accept": GRAPHQL_RESPONSE}
    if content_type is not None:
        headers["content-type"] = content_type
    response = await client.post("/graphql", content=raw, headers=headers)
    SEEN.append(response.text)
    assert response.status_code == status, response.text
    assert codes(response) == [code]
    assert messages(response)[0]  # a message a person can act on


@pytest.mark.parametrize(
    ("params", "code"),
    [
        ({"query": "{ __typename }", "variables": "{not json"}, "BAD_REQUEST"),
        ({"query": "{ __typename }", "variables": "[1]"}, "BAD_REQUEST"),
        ({"query": "{ __typename }", "extensions": "1"}, "BAD_REQUEST"),
        ({"query": ["{ __typename }", "{ __typename }"]}, "BAD_REQUEST"),
        ({"variables": "{}"}, "BAD_REQUEST"),
    ],
)
async def test_malformed_get_requests(
    client: httpx.AsyncClient, params: dict[str, Any], code: str
) -> None:
    response = await client.get("/graphql", params=params, headers={"accept": GRAPHQL_RESPONSE})
    SEEN.append(response.text)
    assert response.status_code == 400, response.text
    assert codes(response) == [code]


async def test_other_methods_and_unacceptable_accept(client: httpx.AsyncClient) -> None:
    for method in ("PUT", "DELETE", "PATCH", "OPTIONS"):
        refused = await client.request(method, "/graphql", json={"query": "{ __typename }"})
        assert refused.status_code == 405, method
        assert refused.headers["allow"] == "GET, POST", method
        assert codes(refused) == ["METHOD_NOT_ALLOWED"], refused.text
    unacceptable = await post(client, {"query": "{ __typename }"}, accept="image/png")
    assert unacceptable.status_code == 406
    assert codes(unacceptable) == ["NOT_ACCEPTABLE"]


async def test_unavailable_database_is_masked(settings: Settings) -> None:
    """A server that cannot be reached: a code and an error id, no DSN, host or SQL."""
    unreachable = settings.model_copy(
        update={
            "database_url": "postgresql://postgres:secret@127.0.0.1:1/nowhere",
            "database_servers": {},
            "database_pool_timeout": 1.0,
        }
    )
    app = create_app(unreachable)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        response = await post(client, {"query": "{ territories { nodes { id } } }"})
        await app.state.db.dispose()
    assert response.status_code == 503
    assert response.headers["retry-after"] == "1"
    (error,) = response.json()["errors"]
    assert error["extensions"]["code"] == "SERVICE_UNAVAILABLE"
    assert re.fullmatch(r"[0-9a-f]{32}", error["extensions"]["errorId"])
    assert "secret" not in response.text
    assert "nowhere" not in response.text


# What a leak looks like: a Python stack trace, a source path, a driver's name or error, an SQL
# statement or a DSN. SQL is matched as statements in upper case (how SQLAlchemy and PostgreSQL
# print them), so English in messages and schema descriptions ("Communities from the territory",
# "select a role") does not trip it.
LEAKS = re.compile(
    r"Traceback \(most recent call last\)|File \"[^\"]+\", line \d+|/work/|site-packages|"
    r"\b[\w/]+\.py\b|\b(?:sqlalchemy|asyncpg|psycopg)\b|postgres(?:ql)?://|"
    r"\b\w+(?:Error|Exception): |"
    r"\bSELECT\b.{1,2000}?\bFROM\b|\bINSERT INTO\b|\bUPDATE\s+\S+\s+SET\b|\bDELETE FROM\b|"
    r"violates (?:unique|foreign key|check|not-null) constraint|relation \"\w+\" does not exist"
)

LEAKING_SAMPLES = [
    'Traceback (most recent call last):\n  File "/app/graph/schema.py", line 12, in <module>',
    "sqlalchemy.exc.ProgrammingError: (asyncpg.exceptions.UndefinedTableError)",
    'UniqueViolationError: duplicate key value violates unique constraint "users_pkey"',
    "SELECT users.id, users.email FROM dk.users WHERE users.id = $1",
    "INSERT INTO dk.users (id) VALUES ($1)",
    "UPDATE dk.users SET email = $1",
    "DELETE FROM dk.sessions WHERE id = $1",
    "could not connect to postgresql://postgres:secret@db/unityplan",
    'relation "users" does not exist',
    "KeyError: 'sub'",
]
ENGLISH_SAMPLES = [
    "Communities from the territory, newest first.",
    "Select a role from the list; updates set the new role.",
    "An exception: an update from an insert into a queue.",
    "The description has at most 2000 characters.",
    "Errors are reported from the resolver as codes.",
]


@pytest.mark.parametrize("sample", LEAKING_SAMPLES)
def test_the_leak_pattern_finds_traces_sql_and_drivers(sample: str) -> None:
    assert LEAKS.search(sample), sample


@pytest.mark.parametrize("sample", ENGLISH_SAMPLES)
def test_the_leak_pattern_lets_english_through(sample: str) -> None:
    assert not LEAKS.search(sample), (sample, LEAKS.search(sample))


@pytest.fixture(autouse=True)
def scanned_for_leaks() -> Iterator[None]:
    """Every test here scans the bodies it received itself, so no test relies on another's."""
    SEEN.clear()
    yield
    leaking = [LEAKS.search(body) for body in SEEN]
    assert not any(leaking), [
        (m.group(0), body[:300]) for m, body in zip(leaking, SEEN, strict=True) if m
    ]


async def test_no_response_leaks_stack_traces_paths_or_sql(client: httpx.AsyncClient) -> None:
    """Requests that fail in every layer, and the schema's descriptions: nothing leaks.

    The scan itself is the fixture above; this test makes sure it sees enough to matter, on its own.
    """
    for body in (
        b"{not json",
        {"query": "{"},
        {"query": "{ noSuchField }"},
        {"query": "query Q($id: ID!) { node(id: $id) { id } }"},
        {"query": '{ node(id: "bm90IGFuIGlk") { id } }'},
        {"query": get_introspection_query(descriptions=True)},
    ):
        await post(client, body)
    assert len(SEEN) == 6
    introspection = SEEN[-1]
    assert '"description"' in introspection
    assert re.search(r"\bfrom\b", introspection)  # English the earlier pattern refused


def test_logs_name_the_error_id(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.ERROR, logger="unityplan.errors"):
        masked = coded(GraphQLError("x", original_error=RuntimeError("SELECT secret FROM t")))
    assert masked.message == "Internal server error."
    assert masked.extensions is not None
    assert masked.extensions["errorId"] in caplog.text
    assert "SELECT secret FROM t" in caplog.text
