"""``Observability``: what ``graph.server.app`` builds from the settings and wires into the app."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from typing import TYPE_CHECKING

from starlette.middleware import Middleware
from starlette.routing import Route
from strawberry.extensions import SchemaExtension

from graph.observability.config import ObservabilityConfig
from graph.observability.metrics import Metrics, MetricsExtension
from graph.observability.middleware import RequestContextMiddleware
from graph.observability.tracing import (
    TracingExtension,
    batch_span,
    build_provider,
    instrument_engine,
)

if TYPE_CHECKING:
    from opentelemetry.sdk.trace.export import SpanExporter
    from sqlalchemy.ext.asyncio import AsyncEngine

    from db.engines import Database
    from unityplan.settings import Settings

_NOTHING: AbstractContextManager[None] = nullcontext()


class Observability:
    """Metrics (unless disabled) and tracing (when an exporter is set) for one app.

    ``span_exporter`` turns tracing on with that exporter, synchronously (tests).
    """

    def __init__(
        self, config: ObservabilityConfig, *, span_exporter: SpanExporter | None = None
    ) -> None:
        self.config = config
        self.metrics = (
            Metrics(max_operations=config.metrics_max_operations, token=config.metrics_token)
            if config.metrics_enabled
            else None
        )
        self.provider = build_provider(config.otel_exporter, config.service_name, span_exporter)
        self.tracer = self.provider.get_tracer("unityplan.graph") if self.provider else None
        self._databases: list[Database] = []
        self._attached = False

    @classmethod
    def from_settings(cls, settings: Settings) -> Observability:
        return cls(ObservabilityConfig.from_settings(settings))

    # --- wiring

    def schema_extensions(self) -> list[Callable[[], SchemaExtension]]:
        """Factories to put FIRST in the schema's extensions (see each extension's docstring)."""
        extensions: list[Callable[[], SchemaExtension]] = []
        metrics, tracer = self.metrics, self.tracer
        if metrics is not None:
            extensions.append(lambda: MetricsExtension(metrics))
        if tracer is not None:
            extensions.append(lambda: TracingExtension(tracer))
        return extensions

    def middleware(self) -> Middleware:
        """The request-id middleware; put it first (outermost) in the app's middleware."""
        return Middleware(RequestContextMiddleware, tracer=self.tracer)

    def routes(self) -> list[Route]:
        if self.metrics is None:
            return []
        return [Route("/metrics", self.metrics.endpoint, methods=["GET"])]

    def observe_batch(self, loader: str, territory: str, size: int) -> AbstractContextManager[None]:
        """Called by ``Loaders`` around each batch: the size histogram and the batch's span."""
        if self.metrics is not None:
            self.metrics.observe_batch(loader, size)
        if self.tracer is not None:
            return batch_span(self.tracer, loader, territory, size)
        return _NOTHING

    def attach(self, db: Database) -> None:
        """Count ``db``'s statements, read its pools at scrape time, trace its SQL."""
        self._attached = True
        if self.metrics is not None:
            db.add_statement_listener(self.metrics.on_statement)
        if self.metrics is not None or self.tracer is not None:
            db.add_engine_listener(self._on_engine)
        self._databases.append(db)

    def _on_engine(self, server: str, engine: AsyncEngine) -> None:
        if self.metrics is not None:
            self.metrics.on_engine(server, engine)
        if self.tracer is not None:
            instrument_engine(self.tracer, server, engine, enabled=self._is_attached)

    def _is_attached(self) -> bool:
        return self._attached

    def detach(self) -> None:
        self._attached = False
        for db in self._databases:
            if self.metrics is not None:
                db.remove_statement_listener(self.metrics.on_statement)
            if self.metrics is not None or self.tracer is not None:
                db.remove_engine_listener(self._on_engine)
        self._databases.clear()

    def shutdown(self) -> None:
        """Detach from the databases and flush pending spans (the app's lifespan end)."""
        self.detach()
        if self.provider is not None:
            self.provider.shutdown()
