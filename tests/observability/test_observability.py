"""Observability: /metrics series and labels, request ids from traceparent, JSON logs, redaction,
and OpenTelemetry spans (parse, validate, execute, dataloader batches, SQL) with their parents.

The apps here own a Database of their own, so statement counts and pool gauges are theirs alone.
"""

from __future__ import annotations

import io
import logging
import re
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import orjson
import pytest
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from prometheus_client.parser import text_string_to_metric_families

from db.engines import Database
from graph.observability import (
    Observability,
    ObservabilityConfig,
    configure_logging,
    logs,
    parse_traceparent,
    redact,
)
from graph.observability.logs import JsonFormatter, Redact
from graph.observability.metrics import Metrics, MetricsExtension
from graph.observability.tracing import TracingExtension
from graph.server.app import create_app
from unityplan.settings import Settings

TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
PARENT_ID = "00f067aa0ba902b7"
TRACEPARENT = f"00-{TRACE_ID}-{PARENT_ID}-01"

NAMED = """query TerritoryCommunities {
  territories { nodes { code communities(first: 5) { nodes { id name } } } }
}"""
# Two pages of one territory's communities: ONE communities.public_page batch with two keys.
BATCHED = '{ territory(id: "dk") { a: communities(first: 1) { nodes { id } } '
BATCHED += "b: communities(first: 2) { nodes { id } } } }"
BAD_INPUT = '{ territory(id: "DK") { code } }'
UNPARSABLE = "{ territories { nodes { code }"
Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


async def _client(
    settings: Settings, db: Database, observability: Observability
) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(settings, db, observability)
    transport = httpx.ASGITransport(app=app)
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            yield client
    finally:
        observability.shutdown()
        await app.state.redis.aclose()


@pytest.fixture(scope="module")
async def own_db(settings: Settings, db: Database) -> AsyncIterator[Database]:
    """A Database of the tests' own on the suite's (migrated, seeded) servers."""
    database = Database(settings.servers(), pool_size=2)
    try:
        yield database
    finally:
        await database.dispose()


@pytest.fixture(scope="module")
async def metered(settings: Settings, own_db: Database) -> AsyncIterator[httpx.AsyncClient]:
    async for client in _client(settings, own_db, Observability(ObservabilityConfig())):
        yield client


@pytest.fixture(scope="module")
def exporter() -> InMemorySpanExporter:
    return InMemorySpanExporter()


@pytest.fixture(scope="module")
async def traced(
    settings: Settings, db: Database, exporter: InMemorySpanExporter
) -> AsyncIterator[httpx.AsyncClient]:
    database = Database(settings.servers(), pool_size=2)
    observability = Observability(ObservabilityConfig(), span_exporter=exporter)
    try:
        async for client in _client(settings, database, observability):
            yield client
    finally:
        await database.dispose()


async def post(client: httpx.AsyncClient, query: str, **headers: str) -> httpx.Response:
    response = await client.post("/graphql", json={"query": query}, headers=headers)
    assert response.status_code == 200, response.text
    return response


async def scrape(client: httpx.AsyncClient) -> tuple[str, Samples]:
    response = await client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    samples: Samples = {}
    for family in text_string_to_metric_families(response.text):
        for sample in family.samples:
            samples[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return response.text, samples


def value(samples: Samples, name: str, **labels: str) -> float:
    key = (name, frozenset(labels.items()))
    assert key in samples, f"{name}{labels} missing from /metrics: {sorted(samples)[:20]}..."
    return samples[key]


# --- metrics


async def test_metrics_expose_every_series_with_its_labels(
    metered: httpx.AsyncClient,
) -> None:
    client = metered
    body = (await post(client, NAMED)).json()
    assert "errors" not in body
    await post(client, NAMED)
    assert "errors" not in (await post(client, BATCHED)).json()
    bad = (await post(client, BAD_INPUT)).json()
    assert bad["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    unparsable = (await post(client, UNPARSABLE)).json()
    assert unparsable["errors"][0]["extensions"]["code"] == "GRAPHQL_PARSE_FAILED"

    text, samples = await scrape(client)
    for series in (
        "graphql_requests_total",
        "graphql_request_duration_seconds",
        "graphql_errors_total",
        "dataloader_batch_size",
        "db_statements_total",
        "db_pool_connections",
    ):
        assert re.search(rf"^# TYPE {series}\b", text, re.MULTILINE), series

    requests = "graphql_requests_total"
    assert value(samples, requests, operation="TerritoryCommunities", status="ok") == 2
    assert value(samples, requests, operation="anonymous", status="ok") == 1
    assert value(samples, requests, operation="anonymous", status="error") == 1
    # A document that did not parse never lends its (client-chosen) name to a label.
    assert value(samples, requests, operation="invalid", status="rejected") == 1

    duration = "graphql_request_duration_seconds"
    assert value(samples, f"{duration}_count", operation="TerritoryCommunities") == 2
    assert value(samples, f"{duration}_sum", operation="TerritoryCommunities") > 0
    assert value(samples, f"{duration}_bucket", operation="TerritoryCommunities", le="+Inf") == 2

    assert value(samples, "graphql_errors_total", code="BAD_USER_INPUT") >= 1
    assert value(samples, "graphql_errors_total", code="GRAPHQL_PARSE_FAILED") == 1

    batches = "dataloader_batch_size"
    # NAMED reads five territories' communities (one batch each), BATCHED one batch of two keys.
    assert value(samples, f"{batches}_count", loader="communities.public_page") >= 6
    assert value(samples, f"{batches}_sum", loader="communities.public_page") >= 7
    assert value(samples, f"{batches}_bucket", loader="communities.public_page", le="1.0") >= 5
    assert value(samples, f"{batches}_count", loader="territories") >= 1

    assert value(samples, "db_statements_total", server="main") > 0
    assert value(samples, "db_statements_total", server="second") > 0  # se and fn_sami live there

    for server in ("main", "second"):
        assert value(samples, "db_pool_connections", server=server, state="checked_out") == 0
        assert value(samples, "db_pool_connections", server=server, state="idle") >= 1
        assert value(samples, "db_pool_connections", server=server, state="overflow") == 0


async def test_metrics_can_be_disabled_or_protected(settings: Settings, own_db: Database) -> None:
    off = Observability(ObservabilityConfig(metrics_enabled=False))
    async for client in _client(settings, own_db, off):
        assert (await client.get("/metrics")).status_code == 404
        assert off.schema_extensions() == []

    guarded = Observability(ObservabilityConfig(metrics_token="s3cret-scrape"))
    async for client in _client(settings, own_db, guarded):
        refused = await client.get("/metrics")
        assert refused.status_code == 401
        wrong = await client.get("/metrics", headers={"Authorization": "Bearer nope"})
        assert wrong.status_code == 401
        ok = await client.get("/metrics", headers={"Authorization": "Bearer s3cret-scrape"})
        assert ok.status_code == 200
        assert "graphql_requests_total" in ok.text


def test_operation_and_code_labels_are_bounded() -> None:
    metrics = Metrics(max_operations=2)
    assert metrics.operation_label("A", valid=True) == "A"
    assert metrics.operation_label("B", valid=True) == "B"
    assert metrics.operation_label("C", valid=True) == "other"
    assert metrics.operation_label("A", valid=True) == "A"
    assert metrics.operation_label(None, valid=True) == "anonymous"
    assert metrics.operation_label("Evil", valid=False) == "invalid"
    # A name is the client's text, as long as the document allows: a long one takes no slot.
    roomy = Metrics(max_operations=2)
    assert roomy.operation_label("L" * 10_000, valid=True) == "other"
    assert roomy.operation_label("A" * 100, valid=True) == "A" * 100
    assert roomy.operation_label("B", valid=True) == "B"
    assert metrics.code_label("BAD_USER_INPUT") == "BAD_USER_INPUT"
    assert metrics.code_label("not a code") == "OTHER"
    assert metrics.code_label(None) == "OTHER"


def test_tracing_off_adds_nothing_per_operation() -> None:
    observability = Observability(ObservabilityConfig())
    assert observability.tracer is None
    assert observability.provider is None
    extensions = [factory() for factory in observability.schema_extensions()]
    assert [type(e) for e in extensions] == [MetricsExtension]
    # Only the operation hook: Strawberry wraps no resolver for it.
    assert not MetricsExtension._implements_resolve()


# --- request ids and logs


@pytest.fixture
def log_lines() -> Iterator[io.StringIO]:
    """JSON log lines of ``unityplan.*`` (the access log included), as the app writes them."""
    buffer = io.StringIO()
    handler = logging.StreamHandler(buffer)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(Redact())
    logger = logging.getLogger("unityplan")
    previous = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        yield buffer
    finally:
        logger.removeHandler(handler)
        logger.setLevel(previous)


def records(buffer: io.StringIO) -> list[dict[str, Any]]:
    return [orjson.loads(line) for line in buffer.getvalue().splitlines()]


async def test_traceparent_becomes_the_request_id_in_header_and_logs(
    metered: httpx.AsyncClient, log_lines: io.StringIO
) -> None:
    client = metered
    response = await post(client, "{ territories { nodes { code } } }", traceparent=TRACEPARENT)
    assert response.headers["x-request-id"] == TRACE_ID
    lines = records(log_lines)
    access = [r for r in lines if r["logger"] == "unityplan.access"]
    assert access, lines
    entry = access[-1]
    assert entry["request_id"] == TRACE_ID
    assert entry["level"] == "INFO"
    assert entry["status"] == 200
    assert entry["path"] == "/graphql"
    assert entry["duration_ms"] >= 0
    assert {"time", "message"} <= set(entry)


@pytest.mark.parametrize(
    "header",
    [
        f"00-{TRACE_ID.upper()}-{PARENT_ID}-01",  # upper case
        f"00-{'0' * 32}-{PARENT_ID}-01",  # all-zero trace id
        f"00-{TRACE_ID}-{'0' * 16}-01",  # all-zero parent id
        f"ff-{TRACE_ID}-{PARENT_ID}-01",  # forbidden version
        f"00-{TRACE_ID}-{PARENT_ID}-01-extra",  # version 00 has exactly four fields
        f"00-{TRACE_ID[:-1]}-{PARENT_ID}-01",  # short trace id
        f"00-{TRACE_ID}-{PARENT_ID}",  # no flags
        "garbage\r\nX-Injected: 1",
    ],
)
async def test_an_invalid_traceparent_is_ignored(metered: httpx.AsyncClient, header: str) -> None:
    assert parse_traceparent(header) is None
    client = metered
    headers = {"traceparent": header} if "\n" not in header else {}
    response = await post(client, "{ territories { nodes { code } } }", **headers)
    request_id = response.headers["x-request-id"]
    assert re.fullmatch(r"[0-9a-f]{32}", request_id)
    assert request_id != TRACE_ID  # a fresh id, nothing taken from the header


def test_traceparent_parsing() -> None:
    parsed = parse_traceparent(TRACEPARENT)
    assert parsed is not None
    assert (parsed.trace_id, parsed.parent_id, parsed.sampled) == (TRACE_ID, PARENT_ID, True)
    # A later version may append fields; its first four are read the same way.
    assert parse_traceparent(f"01-{TRACE_ID}-{PARENT_ID}-00-future") is not None
    assert parse_traceparent(None) is None


async def test_every_response_gets_a_fresh_request_id(
    metered: httpx.AsyncClient,
) -> None:
    client = metered
    first = (await client.get("/healthz")).headers["x-request-id"]
    second = (await client.get("/healthz")).headers["x-request-id"]
    assert first != second


# --- redaction


def test_redact_removes_secrets() -> None:
    jwt = "eyJhbGciOiJFZERTQSJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl"
    cases = {
        f"Authorization: Bearer {jwt}": jwt,
        "authorization=Basic dXNlcjpodW50ZXIy": "dXNlcjpodW50ZXIy",
        "postgresql://app:hunter2@db.internal:5432/unityplan": "hunter2",
        '{"password": "hunter2", "name": "Ada"}': "hunter2",
        "refresh_token=abc123def&next=/": "abc123def",
        "IDENTITY_HASH_KEY='k3y-material'": "k3y-material",
        f"token {jwt} leaked": jwt,
    }
    for text, secret in cases.items():
        cleaned = redact(text)
        assert secret not in cleaned, (text, cleaned)
        assert "***" in cleaned
    assert redact('{"name": "Ada"}') == '{"name": "Ada"}'
    assert "db.internal:5432" in redact("postgresql://app:hunter2@db.internal:5432/unityplan")


def test_log_lines_never_carry_secrets() -> None:
    buffer = io.StringIO()
    handler = logging.StreamHandler(buffer)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(Redact())
    logger = logging.getLogger("unityplan.test-redaction")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        logger.warning(
            "connecting to %s with headers %s",
            "postgresql://app:hunter2@db:5432/x",
            {"Authorization": "Bearer opaque-token-value"},
            extra={"detail": "password=swordfish"},
        )
        try:
            raise ValueError("login failed for password='letmein'")
        except ValueError:
            logger.exception("unexpected error")
    finally:
        logger.removeHandler(handler)
    output = buffer.getvalue()
    for secret in ("hunter2", "opaque-token-value", "swordfish", "letmein"):
        assert secret not in output
    first, second = records(buffer)
    assert first["message"].startswith("connecting to postgresql://app:***@db:5432/x")
    assert first["detail"] == "password=***"
    assert "ValueError" in second["exception"]
    assert second["logger"] == "unityplan.test-redaction"


def test_configure_logging_routes_uvicorn_through_one_json_handler() -> None:
    root = logging.getLogger()
    saved_root = (list(root.handlers), root.level)
    uvicorn_loggers = [logging.getLogger(n) for n in ("uvicorn", "uvicorn.error", "uvicorn.access")]
    saved = [(lg, list(lg.handlers), lg.propagate, lg.level, lg.disabled) for lg in uvicorn_loggers]
    stray = logging.StreamHandler(io.StringIO())
    logging.getLogger("uvicorn.error").addHandler(stray)
    buffer = io.StringIO()
    try:
        handler = configure_logging(level="info", fmt="json", stream=buffer)
        again = configure_logging(level="info", fmt="json", stream=buffer)
        assert handler not in root.handlers
        assert again in root.handlers
        assert stray not in logging.getLogger("uvicorn.error").handlers
        logging.getLogger("uvicorn.error").info("Started server process [%d]", 42)
        (line,) = records(buffer)
        assert line["logger"] == "uvicorn.error"
        assert line["message"] == "Started server process [42]"
        assert line["level"] == "INFO"
        assert not logging.getLogger("uvicorn.access").hasHandlers()  # ours replaces it
    finally:
        for h in list(root.handlers):
            if h not in saved_root[0]:
                root.removeHandler(h)
        root.setLevel(saved_root[1])
        for lg, handlers, propagate, level, disabled in saved:
            lg.handlers[:] = handlers
            lg.propagate = propagate
            lg.setLevel(level)
            lg.disabled = disabled


# --- traces


def _by_name(spans: list[ReadableSpan], name: str) -> list[ReadableSpan]:
    return [s for s in spans if s.name == name]


def _parent_of(span: ReadableSpan) -> int | None:
    return span.parent.span_id if span.parent is not None else None


def _id(span: ReadableSpan) -> int:
    assert span.context is not None
    return span.context.span_id


async def test_spans_for_phases_batches_and_sql_continue_the_incoming_trace(
    traced: httpx.AsyncClient, exporter: InMemorySpanExporter
) -> None:
    exporter.clear()
    query = 'query SwedenCommunities { territory(id: "se") { communities { nodes { name } } } }'
    response = await post(traced, query, traceparent=TRACEPARENT)
    assert "errors" not in response.json()
    assert response.headers["x-request-id"] == TRACE_ID
    spans = list(exporter.get_finished_spans())
    assert {s.context.trace_id for s in spans if s.context} == {int(TRACE_ID, 16)}

    (http,) = _by_name(spans, "POST /graphql")
    assert _parent_of(http) == int(PARENT_ID, 16)
    assert http.attributes is not None
    assert http.attributes["http.response.status_code"] == 200

    (operation,) = _by_name(spans, "query SwedenCommunities")
    assert _parent_of(operation) == _id(http)
    assert operation.attributes is not None
    assert operation.attributes["graphql.operation.name"] == "SwedenCommunities"
    for phase in ("graphql.parse", "graphql.validate", "graphql.execute"):
        (span,) = _by_name(spans, phase)
        assert _parent_of(span) == _id(operation), phase
    (execute,) = _by_name(spans, "graphql.execute")

    (batch,) = _by_name(spans, "dataloader communities.public_page")
    assert _parent_of(batch) == _id(execute)
    assert batch.attributes is not None
    assert batch.attributes["territory"] == "se"
    assert batch.attributes["dataloader.keys"] == 1

    sql = [s for s in spans if s.attributes and s.attributes.get("db.system.name")]
    assert sql, [s.name for s in spans]
    in_batch = [s for s in sql if _parent_of(s) == _id(batch)]
    assert len(in_batch) == 1  # one batch, one statement
    (statement,) = in_batch
    assert statement.name == "SELECT"
    assert statement.attributes is not None
    assert statement.attributes["db.server.key"] == "second"
    assert "territory_se" in str(statement.attributes["db.query.text"])
    # The registry lookup that routed the batch is on the main server, in the same trace.
    assert any(s.attributes and s.attributes.get("db.server.key") == "main" for s in sql)


async def test_a_failed_parse_marks_its_spans_and_no_document_is_recorded(
    traced: httpx.AsyncClient, exporter: InMemorySpanExporter
) -> None:
    exporter.clear()
    await post(traced, 'mutation Login { login(password: "hunter2") ')
    spans = list(exporter.get_finished_spans())
    (parse,) = _by_name(spans, "graphql.parse")
    assert not parse.status.is_ok
    assert not _by_name(spans, "graphql.execute")
    for span in spans:
        assert "hunter2" not in repr(dict(span.attributes or {}))


async def test_without_traceparent_the_request_id_is_the_new_trace_id(
    traced: httpx.AsyncClient, exporter: InMemorySpanExporter
) -> None:
    exporter.clear()
    response = await post(traced, "{ territories { nodes { code } } }")
    (http,) = _by_name(list(exporter.get_finished_spans()), "POST /graphql")
    assert http.parent is None
    assert http.context is not None
    assert response.headers["x-request-id"] == f"{http.context.trace_id:032x}"


def test_tracing_extension_has_no_resolver_hook() -> None:
    assert not TracingExtension._implements_resolve()


def test_redaction_runs_no_regex_over_secret_free_text_or_whole_tracebacks(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A failing request's traceback is redacted piece by piece, each without a regex unless it
    holds a trigger word: the cost that froze a worker after an overload burst."""
    scanned: list[int] = []

    class Counting:
        def __init__(self, pattern: re.Pattern[str]) -> None:
            self.pattern = pattern

        def sub(self, replacement: str, text: str) -> str:
            scanned.append(len(text))
            return self.pattern.sub(replacement, text)

    monkeypatch.setattr(logs, "_PATTERNS", tuple((Counting(p), r) for p, r in logs._PATTERNS))
    assert redact("GET /graphql 200 in 3 ms") == "GET /graphql 200 in 3 ms"
    assert scanned == []

    def deep(n: int) -> None:
        if n == 0:
            raise RuntimeError("pool exhausted while serving " + "x" * 5000)
        deep(n - 1)

    try:
        deep(30)
    except RuntimeError as error:
        text = logs.traceback_text((RuntimeError, error, error.__traceback__))
    assert "pool exhausted" in text
    assert "in deep" in text
    assert all(size < 1000 for size in scanned), scanned
    assert redact("token=abc") == "token=***"
