"""Prometheus metrics in a registry the app owns (so two apps, or two tests, never share counts).

Series (all label values bounded):

* ``graphql_requests_total{operation,status}``: one per GraphQL operation; ``status`` is ``ok``,
  ``error`` (executed, with errors) or ``rejected`` (never executed: parse, validation, limits).
  ``operation`` is the operation's name, ``anonymous`` when it has none, ``invalid`` when the
  document was rejected (its name is the client's free text), and ``other`` once
  ``METRICS_MAX_OPERATIONS`` distinct names have been seen (or for a name over 100 characters).
* ``graphql_request_duration_seconds{operation}``: the operation from parse to result.
* ``graphql_errors_total{code}``: each error of a result by ``extensions.code``.
* ``graphql_executions_total{executor}``: executed operations by how they ran:
  ``levels`` (graph/level_execution.py), or the reason the standard executor answered instead
  (``operation``: a mutation or subscription; ``abstract``: an interface, union or introspection;
  ``error``: a resolver raised or a non-null field was null; ``incremental``; ``middleware``;
  ``resolver``). A rising ``error`` share on a hot query is worth a look: it runs twice.
* ``dataloader_batch_size{loader}``: keys per batch. No territory label: territories are unbounded
  (every community is one), the span of a batch carries its territory instead.
* ``db_statements_total{server}``: SQL statements sent, per database server.
* ``db_pool_connections{server,state}``: ``checked_out``, ``idle`` and ``overflow`` connections of
  each server's pool, read at scrape time (a collector, so nothing runs per checkout).

With ``PROMETHEUS_MULTIPROC_DIR`` set (several uvicorn workers), prometheus_client keeps counters
and histograms in files there and ``/metrics`` merges every worker's; the pool gauge is the
answering worker's own, labelled with its ``pid``.
"""

from __future__ import annotations

import hmac
import os
import re
import time
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING

from graphql import GraphQLError
from graphql.error import GraphQLSyntaxError
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.exposition import choose_encoder
from prometheus_client.metrics_core import GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector
from sqlalchemy.pool import QueuePool
from starlette.requests import Request
from starlette.responses import Response
from strawberry.exceptions import MissingQueryError
from strawberry.extensions import SchemaExtension
from strawberry.schema.exceptions import CannotGetOperationTypeError, InvalidOperationTypeError
from strawberry.types.graphql import OperationType

from graph.errors import BAD_REQUEST, INTERNAL, OPERATION_RESOLUTION_FAILURE, coded
from graph.server.transport import METHOD_NOT_ALLOWED

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncEngine
    from strawberry.types import ExecutionContext

ANONYMOUS = "anonymous"
INVALID = "invalid"
OTHER = "other"
_CODE = re.compile(r"[A-Z][A-Z0-9_]{0,63}")
_MAX_CODES = 100
MAX_OPERATION_NAME = 100
BATCH_BUCKETS = (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000)


class PoolCollector:
    """``db_pool_connections`` from each engine's pool, computed when Prometheus scrapes."""

    def __init__(self, *, pid_label: bool = False) -> None:
        self.engines: dict[str, AsyncEngine] = {}
        self._pid = str(os.getpid()) if pid_label else None

    def collect(self) -> Iterable[Metric]:
        labels = ["server", "state"] + (["pid"] if self._pid else [])
        family = GaugeMetricFamily(
            "db_pool_connections",
            "Connections of each database server's pool by state.",
            None,
            labels,
        )
        for server, engine in sorted(self.engines.items()):
            pool = engine.sync_engine.pool
            if not isinstance(pool, QueuePool):
                continue
            extra = [self._pid] if self._pid else []
            family.add_metric([server, "checked_out", *extra], pool.checkedout())
            family.add_metric([server, "idle", *extra], pool.checkedin())
            family.add_metric([server, "overflow", *extra], max(0, pool.overflow()))
        yield family


class Metrics:
    """The app's metrics and the hooks that feed them."""

    def __init__(self, *, max_operations: int = 200, token: str | None = None) -> None:
        self.registry = CollectorRegistry()
        self.max_operations = max_operations
        self.token = token
        self._operations: set[str] = set()
        self._codes: set[str] = set()
        self.requests = Counter(
            "graphql_requests",
            "GraphQL operations by operation name and outcome.",
            ["operation", "status"],
            registry=self.registry,
        )
        self.duration = Histogram(
            "graphql_request_duration_seconds",
            "Time from parsing a GraphQL operation to its result.",
            ["operation"],
            registry=self.registry,
        )
        self.errors = Counter(
            "graphql_errors", "GraphQL errors by extensions.code.", ["code"], registry=self.registry
        )
        self.executions = Counter(
            "graphql_executions",
            "Executed GraphQL operations by executor (levels, or why the standard one answered).",
            ["executor"],
            registry=self.registry,
        )
        self.batch_size = Histogram(
            "dataloader_batch_size",
            "Keys per dataloader batch (one SQL statement each).",
            ["loader"],
            buckets=BATCH_BUCKETS,
            registry=self.registry,
        )
        self.statements = Counter(
            "db_statements",
            "SQL statements sent, by database server.",
            ["server"],
            registry=self.registry,
        )
        self.dependency_up = Gauge(
            "dependency_up",
            "1 when the backing service answered the last /readyz probe, else 0; a required one "
            "at 0 fails readiness, a degraded one (NATS) does not.",
            ["dependency"],
            registry=self.registry,
            multiprocess_mode="min",
        )
        self.multiprocess = bool(os.environ.get("PROMETHEUS_MULTIPROC_DIR"))
        self.pools = PoolCollector(pid_label=self.multiprocess)
        self.registry.register(self.pools)

    # --- hooks

    def operation_label(self, name: str | None, *, valid: bool) -> str:
        if not valid:
            return INVALID
        if not name:
            return ANONYMOUS
        if len(name) > MAX_OPERATION_NAME:
            return OTHER  # no real client names an operation like that; it takes no slot
        if name not in self._operations:
            if len(self._operations) >= self.max_operations:
                return OTHER
            self._operations.add(name)
        return name

    def code_label(self, code: object) -> str:
        if not isinstance(code, str) or not _CODE.fullmatch(code):
            return OTHER.upper()
        if code not in self._codes:
            if len(self._codes) >= _MAX_CODES:
                return OTHER.upper()
            self._codes.add(code)
        return code

    def on_statement(self, server: str, _sql: str) -> None:
        self.statements.labels(server).inc()

    def on_engine(self, server: str, engine: AsyncEngine) -> None:
        self.pools.engines[server] = engine

    def observe_batch(self, loader: str, size: int) -> None:
        self.batch_size.labels(loader).observe(size)

    # --- exposition

    def exposition_registry(self) -> CollectorRegistry:
        if not self.multiprocess:
            return self.registry
        merged = CollectorRegistry()
        MultiProcessCollector(merged)  # type: ignore[no-untyped-call]
        merged.register(self.pools)
        return merged

    async def endpoint(self, request: Request) -> Response:
        """GET /metrics in the text format Prometheus asked for (``Accept``)."""
        if self.token is not None:
            presented = request.headers.get("authorization", "")
            if not hmac.compare_digest(presented.encode(), f"Bearer {self.token}".encode()):
                return Response(
                    "unauthorized\n",
                    status_code=401,
                    media_type="text/plain",
                    headers={"WWW-Authenticate": "Bearer"},
                )
        encoder, content_type = choose_encoder(request.headers.get("accept", ""))
        return Response(
            encoder(self.exposition_registry()),
            media_type=None,
            headers={"Content-Type": content_type, "Cache-Control": "no-store"},
        )


def _thrown_code(error: BaseException, execution_context: ExecutionContext) -> str:
    """The code the transport will give an exception thrown out of Strawberry's hooks."""
    if isinstance(error, GraphQLSyntaxError):
        code = (coded(error).extensions or {}).get("code")
        return code if isinstance(code, str) else INTERNAL
    if isinstance(error, GraphQLError):
        code = (error.extensions or {}).get("code")
        return code if isinstance(code, str) else INTERNAL
    if isinstance(error, CannotGetOperationTypeError):
        return OPERATION_RESOLUTION_FAILURE
    if isinstance(error, InvalidOperationTypeError):
        over_get = OperationType.MUTATION not in execution_context.allowed_operations
        return METHOD_NOT_ALLOWED if over_get else BAD_REQUEST
    if isinstance(error, MissingQueryError):
        return BAD_REQUEST
    return INTERNAL


class MetricsExtension(SchemaExtension):
    """Count and time each operation, and count its errors by code.

    Must come FIRST in the schema's extensions: its ``on_operation`` then finishes last, after
    ``ErrorCodes`` has given every error its final code. Only ``on_operation`` is implemented, so
    Strawberry adds no per-field work for it.
    """

    def __init__(self, metrics: Metrics) -> None:
        super().__init__()
        self.metrics = metrics

    def on_operation(self) -> Iterator[None]:
        start = time.perf_counter()
        codes: list[object] = []
        status = "rejected"
        try:
            yield
        except BaseException as error:
            codes.append(_thrown_code(error, self.execution_context))
            raise
        else:
            result = self.execution_context.result
            errors = list(getattr(result, "errors", None) or ())
            codes.extend((e.extensions or {}).get("code") for e in errors)
            data = getattr(result, "data", None)
            if result is None or (data is None and errors and all(e.path is None for e in errors)):
                status = "rejected"
            else:
                status = "error" if errors else "ok"
        finally:
            metrics = self.metrics
            valid = status != "rejected"
            name = self.execution_context.operation_name if valid else None
            operation = metrics.operation_label(name, valid=valid)
            metrics.requests.labels(operation, status).inc()
            metrics.duration.labels(operation).observe(time.perf_counter() - start)
            for code in codes:
                metrics.errors.labels(metrics.code_label(code)).inc()
            execution = getattr(self.execution_context.context, "execution", None)
            if isinstance(execution, str):
                metrics.executions.labels(execution).inc()
