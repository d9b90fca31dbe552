"""Overload: shed load early with a coded 503, fail a request once, log once, recover at once."""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter
from typing import Any

import httpx
import pytest

from db.engines import Database
from graph.server.app import create_app
from tests.live import serve
from unityplan.settings import Settings

HEAVY = (
    "{ territories(first: 100) { nodes { code parent { code } communities(first: 100) { nodes "
    "{ name slug territory { code name } } } } } }"
)
SMALL = '{ territory(id: "dk") { code } }'


def _outcome(response: httpx.Response) -> str:
    body: dict[str, Any] = response.json()
    codes = [e.get("extensions", {}).get("code") for e in body.get("errors", [])]
    if response.status_code == 200 and not codes:
        assert body["data"]["territories"]["nodes"], body
        return "complete"
    assert response.status_code == 503, (response.status_code, body)
    assert response.headers["retry-after"] == "1"
    (code,) = codes
    return str(code)


async def test_a_burst_gets_complete_answers_or_fast_503s_then_service_goes_on(
    settings: Settings, db: Database
) -> None:
    busy = settings.model_copy(update={"max_in_flight": 4})
    with serve(create_app(busy)) as url:
        limits = httpx.Limits(max_connections=100)
        async with httpx.AsyncClient(base_url=url, limits=limits, timeout=60) as client:
            responses = await asyncio.gather(
                *(client.post("/graphql", json={"query": HEAVY}) for _ in range(100))
            )
            outcomes = Counter(_outcome(r) for r in responses)
            started = time.monotonic()
            after = await client.post("/graphql", json={"query": SMALL})
            waited = time.monotonic() - started
    assert set(outcomes) <= {"complete", "OVERLOADED"}, outcomes
    assert outcomes["complete"] >= 4, outcomes
    assert outcomes["OVERLOADED"] >= 1, outcomes
    assert after.status_code == 200
    assert after.json()["data"]["territory"]["code"] == "dk"
    assert waited < 1.0, waited


async def test_a_pool_timeout_fails_the_request_once_and_logs_once(
    settings: Settings, db: Database, caplog: pytest.LogCaptureFixture
) -> None:
    """A pool too small for the load: each failed request is ONE SERVICE_UNAVAILABLE error and
    ONE log record, never one per field that was waiting for the pool."""
    starved = settings.model_copy(
        update={"database_pool_size": 1, "database_pool_timeout": 0.01, "max_in_flight": 100}
    )
    app = create_app(starved)
    transport = httpx.ASGITransport(app=app)
    caplog.set_level(logging.ERROR, logger="unityplan.errors")
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            responses = await asyncio.gather(
                *(client.post("/graphql", json={"query": HEAVY}) for _ in range(40))
            )
    finally:
        await app.state.db.dispose()
    outcomes = Counter(_outcome(r) for r in responses)
    assert set(outcomes) <= {"complete", "SERVICE_UNAVAILABLE"}, outcomes
    assert outcomes["SERVICE_UNAVAILABLE"] >= 1, outcomes
    records = [r for r in caplog.records if r.name == "unityplan.errors"]
    assert len(records) == outcomes["SERVICE_UNAVAILABLE"], [r.getMessage() for r in records]
