"""The differential harness: one app that executes queries a level at a time (the default) and
one that executes them field by field (graphql-core's standard executor), on the same session
database, each document sent to both by the same caller."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from db.engines import Database
from domain.tokens import generate_key, private_pem
from graph.server.app import create_app
from unityplan.settings import Settings

EXECUTIONS = "graphql_executions_total"


@dataclass
class Pair:
    """The two apps: ``levels`` (query_execution="levels") and ``fields`` ("fields")."""

    levels: httpx.AsyncClient
    fields: httpx.AsyncClient


@pytest.fixture(scope="session")
async def pair(settings: Settings, db: Database) -> AsyncIterator[Pair]:
    # One signing key for both, so a token one app issued is good at the other.
    shared = settings.model_copy(
        update={"jwt_private_keys": {"diff": private_pem(generate_key("diff"))}}
    )
    levels_app = create_app(shared, db)
    fields_app = create_app(shared.model_copy(update={"query_execution": "fields"}), db)
    try:
        async with (
            httpx.AsyncClient(
                transport=httpx.ASGITransport(app=levels_app), base_url="http://testserver"
            ) as levels,
            httpx.AsyncClient(
                transport=httpx.ASGITransport(app=fields_app), base_url="http://testserver"
            ) as fields,
        ):
            yield Pair(levels, fields)
    finally:
        for app in (levels_app, fields_app):
            await app.state.storage.node.close()
            await app.state.redis.aclose()


async def executions(client: httpx.AsyncClient) -> dict[str, float]:
    """``graphql_executions_total`` by executor label, as the app's /metrics shows it."""
    response = await client.get("/metrics")
    assert response.status_code == 200, response.text
    counts: dict[str, float] = {}
    for family in text_string_to_metric_families(response.text):
        for sample in family.samples:
            if sample.name == EXECUTIONS:
                counts[sample.labels["executor"]] = sample.value
    return counts


def delta(before: dict[str, float], after: dict[str, float]) -> dict[str, float]:
    return {k: v - before.get(k, 0.0) for k, v in after.items() if v != before.get(k, 0.0)}


async def send(
    client: httpx.AsyncClient,
    query: str,
    variables: dict[str, Any] | None = None,
    token: str | None = None,
) -> tuple[int, str]:
    """The status and the body, dumped as it came (key order kept)."""
    headers = {} if token is None else {"Authorization": f"Bearer {token}"}
    response = await client.post(
        "/graphql", json={"query": query, "variables": variables or {}}, headers=headers
    )
    return response.status_code, json.dumps(response.json())


async def assert_same(
    pair: Pair,
    query: str,
    variables: dict[str, Any] | None = None,
    token: str | None = None,
    *,
    executor: str = "levels",
    other_token: str | None = None,
) -> dict[str, Any]:
    """Both apps answer ``query`` with exactly the same body (data, errors, key order), the
    levels app counting it under ``executor``; the fields app as ``other_token`` when given
    (only to show this harness tells different answers apart). Returns the body."""
    before = await executions(pair.levels)
    levels = await send(pair.levels, query, variables, token)
    after = await executions(pair.levels)
    fields = await send(
        pair.fields, query, variables, token if other_token is None else other_token
    )
    assert levels == fields, f"levels:\n{levels[1]}\nfields:\n{fields[1]}"
    assert delta(before, after) == {executor: 1.0}, (delta(before, after), levels[1][:2000])
    body: dict[str, Any] = json.loads(levels[1])
    return body
