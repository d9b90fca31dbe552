"""Schemathesis in GraphQL mode against the live app: generated operations never get a 5xx.

Schemathesis introspects the running server, then Hypothesis generates documents (valid and
deliberately odd arguments) for every root field, queries and mutations alike (anonymous: the
mutations that need a caller refuse with a code, which is the point). Bounded: a few examples per
field, no deadline per example, and a whole-test timeout, so it stays a short CI step.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
import redis
import requests
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.graphql import nodes

from db.engines import Database
from graph.server.app import create_app
from tests.live import serve
from unityplan.settings import Settings

MAX_EXAMPLES = int(os.environ.get("SCHEMATHESIS_EXAMPLES", "25"))

# A file travels in a multipart request, never inside a JSON document: whatever stands in for one
# here (any string) must be refused with a code, not fail.
schemathesis.graphql.scalar("Upload", st.text(max_size=20).map(nodes.String))


@pytest.fixture(scope="module")
def base_url(settings: Settings, db: Database) -> Iterator[str]:
    # Generated mutations (login with random credentials, say) leave throttling state in Redis:
    # under a prefix of their own, so no other test's caller is ever locked out by them.
    prefix = f"unityplan-schemathesis-{os.getpid()}:"
    own = settings.model_copy(update={"redis_key_prefix": prefix})
    try:
        with serve(create_app(own)) as url:
            yield url
    finally:
        with redis.Redis.from_url(settings.redis_url) as client:
            for key in client.scan_iter(match=f"{prefix}*"):
                client.delete(key)


@pytest.mark.timeout(120)
def test_no_generated_query_gets_a_server_error(base_url: str) -> None:
    schema = schemathesis.graphql.from_url(f"{base_url}/graphql")
    operations = [result.ok() for result in schema.get_all_operations()]
    names = {operation.label for operation in operations}
    assert {"Query.territories", "Query.node"} <= names, names
    statuses: list[int] = []

    with requests.Session() as session:
        for operation in operations:

            @given(case=operation.as_strategy())
            @settings(
                max_examples=MAX_EXAMPLES,
                deadline=None,
                database=None,
                # Reproducible in CI; SCHEMATHESIS_EXAMPLES=N explores N random ones per field.
                derandomize="SCHEMATHESIS_EXAMPLES" not in os.environ,
                suppress_health_check=list(HealthCheck),
            )
            def check(case: schemathesis.Case) -> None:
                response = case.call(session=session, timeout=10)
                statuses.append(response.status_code)
                assert response.status_code < 500, (case.body, response.text)
                assert "Traceback" not in response.text

            check()
    assert len(statuses) >= len(operations), "some operation made no request"
