"""Observability: JSON logs with a request id, Prometheus metrics, OpenTelemetry traces.

Kept in one package so the hot paths it touches (one ASGI middleware, one schema extension, one
hook per dataloader batch and per SQL statement) are easy to audit for their cost: nothing here
runs per field or per resolver. ``Observability`` (``graph.observability.setup``) is the one object
``graph.server.app`` builds from the settings and wires in.
"""

from __future__ import annotations

from graph.observability.config import ObservabilityConfig
from graph.observability.context import current_request_id, parse_traceparent
from graph.observability.logs import configure_logging, redact
from graph.observability.setup import Observability

__all__ = [
    "Observability",
    "ObservabilityConfig",
    "configure_logging",
    "current_request_id",
    "parse_traceparent",
    "redact",
]
