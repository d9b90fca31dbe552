"""OpenTelemetry traces: a span per HTTP request, GraphQL phase, dataloader batch and SQL statement.

Span tree of one request::

    POST /graphql                       (SERVER; child of an incoming ``traceparent``)
      query OperationName               (graphql.operation.name / .type)
        graphql.parse
        graphql.validate
        graphql.execute
          dataloader communities.public_page (loader, territory, keys)
            SELECT                      (CLIENT; db.system.name, server, db.query.text)

Strawberry's own ``OpenTelemetryExtension`` is not used: it opens a span for every resolver (and
records the whole document, which may hold literal passwords). Here nothing runs per field; the
document is never recorded, only the operation's name and type. SQL text is recorded because every
value is a bound parameter (engines also set ``hide_parameters``) and never the parameters.

The tracer provider belongs to the app (not the process-global one): two apps in one process (the
test suite) never export each other's spans. ``OTEL_EXPORTER=none`` builds none of this: no
extension, no middleware span, no SQL events.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import SERVICE_NAME, Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import (
    BatchSpanProcessor,
    ConsoleSpanExporter,
    SimpleSpanProcessor,
    SpanExporter,
)
from opentelemetry.trace import NonRecordingSpan, SpanContext, SpanKind, Status, StatusCode
from opentelemetry.trace import TraceFlags as OtelTraceFlags
from sqlalchemy import event
from strawberry.extensions import SchemaExtension

from graph.observability.config import Exporter
from graph.observability.context import TraceParent

if TYPE_CHECKING:
    from sqlalchemy.engine import ExceptionContext
    from sqlalchemy.ext.asyncio import AsyncEngine

log = logging.getLogger("unityplan.tracing")

_SPAN_ATTR = "_unityplan_span"
MAX_SQL_CHARS = 2048


def build_provider(
    exporter: Exporter, service_name: str, span_exporter: SpanExporter | None = None
) -> TracerProvider | None:
    """A tracer provider exporting to ``exporter``, or None when tracing is off.

    ``span_exporter`` (tests: ``InMemorySpanExporter``) is exported to synchronously. The OTLP
    exporter (HTTP/protobuf) reads ``OTEL_EXPORTER_OTLP_ENDPOINT`` and its sibling variables
    itself.
    """
    if span_exporter is None and exporter == "none":
        return None
    provider = TracerProvider(resource=Resource.create({SERVICE_NAME: service_name}))
    if span_exporter is not None:
        provider.add_span_processor(SimpleSpanProcessor(span_exporter))
    elif exporter == "console":
        provider.add_span_processor(SimpleSpanProcessor(ConsoleSpanExporter()))
    else:
        provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    return provider


def parent_context(parent: TraceParent | None) -> otel_context.Context | None:
    """The OpenTelemetry context continuing an incoming ``traceparent`` (None: a new trace)."""
    if parent is None:
        return None
    span_context = SpanContext(
        trace_id=int(parent.trace_id, 16),
        span_id=int(parent.parent_id, 16),
        is_remote=True,
        trace_flags=OtelTraceFlags(parent.flags & 0xFF),
    )
    return trace.set_span_in_context(NonRecordingSpan(span_context))


@contextmanager
def activate(span: trace.Span) -> Iterator[None]:
    """Make ``span`` current for the block, marking it failed if the block raises."""
    token = otel_context.attach(trace.set_span_in_context(span))
    try:
        yield
    except BaseException as error:
        span.set_status(Status(StatusCode.ERROR, type(error).__name__))
        raise
    finally:
        otel_context.detach(token)
        span.end()


_Open = tuple[trace.Span, object | None]


class TracingExtension(SchemaExtension):
    """Spans for the operation and its parse, validate and execute phases (no resolver spans).

    Must come before ``ParserCache``/``DocumentLimits`` in the schema's extensions, since those do
    their work on entering their hooks: only an earlier hook's span encloses it. Strawberry never
    exits the hooks entered before one whose entry raised (``ParserCache`` raising a syntax
    error, say), so phases are also closed by ``on_operation``, which is always exited; only the
    execute span becomes current (dataloader and SQL spans are its children).
    """

    def __init__(self, tracer: trace.Tracer) -> None:
        super().__init__()
        self.tracer = tracer
        self._context: otel_context.Context | None = None
        self._open: list[_Open] = []

    def on_operation(self) -> Iterator[None]:
        span = self.tracer.start_span("graphql.operation")
        self._context = trace.set_span_in_context(span)
        token = otel_context.attach(self._context)
        failure: str | None = None
        try:
            yield
        except BaseException as error:
            failure = type(error).__name__
            span.set_status(Status(StatusCode.ERROR, failure))
            raise
        else:
            self._describe(span)
        finally:
            while self._open:
                self._close(self._open.pop(), failure or "not completed")
            otel_context.detach(token)
            span.end()

    def _describe(self, span: trace.Span) -> None:
        context = self.execution_context
        name = context.operation_name
        try:
            kind: str | None = context.operation_type.value
        except Exception:  # no document: it did not parse
            kind = None
        if kind is not None:
            span.set_attribute("graphql.operation.type", kind)
            span.update_name(f"{kind} {name}" if name else kind)
        if name:
            span.set_attribute("graphql.operation.name", name)
        errors = getattr(context.result, "errors", None) or ()
        if errors:
            codes = sorted({str((e.extensions or {}).get("code")) for e in errors})
            span.set_attribute("graphql.error.codes", codes)
            span.set_status(Status(StatusCode.ERROR, ",".join(codes)))

    @staticmethod
    def _close(entry: _Open, failure: str | None) -> None:
        span, token = entry
        if failure is not None:
            span.set_status(Status(StatusCode.ERROR, failure))
        if token is not None:
            otel_context.detach(token)  # type: ignore[arg-type]
        span.end()

    def _phase(self, name: str, *, current: bool = False) -> Iterator[None]:
        span = self.tracer.start_span(name, context=self._context)
        token = otel_context.attach(trace.set_span_in_context(span)) if current else None
        entry: _Open = (span, token)
        self._open.append(entry)
        failure: str | None = None
        try:
            yield
        except BaseException as error:
            failure = type(error).__name__
            raise
        finally:
            # Still ours to close unless on_operation already did (see the class docstring).
            if self._open and self._open[-1] is entry:
                self._close(self._open.pop(), failure)

    def on_parse(self) -> Iterator[None]:
        yield from self._phase("graphql.parse")

    def on_validate(self) -> Iterator[None]:
        yield from self._phase("graphql.validate")

    def on_execute(self) -> Iterator[None]:
        yield from self._phase("graphql.execute", current=True)


@contextmanager
def batch_span(tracer: trace.Tracer, loader: str, territory: str, size: int) -> Iterator[None]:
    span = tracer.start_span(
        f"dataloader {loader}",
        attributes={"dataloader.name": loader, "territory": territory, "dataloader.keys": size},
    )
    with activate(span):
        yield


def _operation_of(statement: str) -> str:
    head = statement.lstrip().split(None, 1)
    return head[0].upper() if head else "SQL"


def instrument_engine(
    tracer: trace.Tracer, server: str, engine: AsyncEngine, *, enabled: Callable[[], bool]
) -> None:
    """A CLIENT span around each statement ``engine`` sends, as a child of the current span.

    SQLAlchemy runs these events inside its greenlet, which carries the calling task's context,
    so the dataloader batch (or operation) that issued the statement is the parent. ``enabled``
    lets a detached app stop tracing: SQLAlchemy events cannot be removed per engine cheaply.
    """

    def before(
        _conn: Any, _cursor: Any, statement: str, _params: Any, context: Any, executemany: bool
    ) -> None:
        if not enabled():
            return
        span = tracer.start_span(
            _operation_of(statement),
            kind=SpanKind.CLIENT,
            attributes={
                "db.system.name": "postgresql",
                "db.server.key": server,
                "db.query.text": statement[:MAX_SQL_CHARS],
                "db.executemany": executemany,
            },
        )
        setattr(context, _SPAN_ATTR, span)

    def after(
        _conn: Any, _cursor: Any, _statement: str, _params: Any, context: Any, _many: bool
    ) -> None:
        span = getattr(context, _SPAN_ATTR, None)
        if span is not None:
            setattr(context, _SPAN_ATTR, None)
            span.end()

    def failed(exception_context: ExceptionContext) -> None:
        context = exception_context.execution_context
        span = getattr(context, _SPAN_ATTR, None) if context is not None else None
        if span is not None:
            setattr(context, _SPAN_ATTR, None)
            # The type only: a driver's message may quote values.
            error = exception_context.original_exception
            span.set_status(Status(StatusCode.ERROR, type(error).__name__))
            span.end()

    sync_engine = engine.sync_engine
    event.listen(sync_engine, "before_cursor_execute", before)
    event.listen(sync_engine, "after_cursor_execute", after)
    event.listen(sync_engine, "handle_error", failed)
