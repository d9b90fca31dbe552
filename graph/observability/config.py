"""What the observability package needs from the settings, as a frozen value.

A separate value rather than ``Settings`` itself so tests build exactly the configuration they
need (an in-memory span exporter, a small operation cap) without a whole environment.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from unityplan.settings import Settings

Exporter = Literal["none", "console", "otlp"]


@dataclass(frozen=True, slots=True)
class ObservabilityConfig:
    """Metrics and tracing switches (README, "Observability")."""

    metrics_enabled: bool = True
    # When set, GET /metrics requires ``Authorization: Bearer <token>``; None: open (the usual
    # set-up, with /metrics reachable only from the scraper's network).
    metrics_token: str | None = None
    # Distinct operation names counted under their own label; later ones count as "other".
    metrics_max_operations: int = 200
    otel_exporter: Exporter = "none"
    service_name: str = "unityplan-graph"

    @classmethod
    def from_settings(cls, settings: Settings) -> ObservabilityConfig:
        return cls(
            metrics_enabled=settings.metrics_enabled,
            metrics_token=settings.metrics_token or None,
            metrics_max_operations=settings.metrics_max_operations,
            otel_exporter=settings.otel_exporter,
            service_name=settings.otel_service_name,
        )
