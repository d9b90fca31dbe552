"""The front door's policy: settings resolved against the defaults of ``UNITYPLAN_ENV``.

One switch, ``UNITYPLAN_ENV=production``, must flip every exposure default at once (so nobody ships
GraphiQL or anonymous introspection by forgetting one variable), while each default stays
overridable on its own. Settings leave those knobs ``None``; this module is the single place that
turns ``None`` into the environment's default, so the app, the schema and the tests agree.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from domain.callers import Caller
from unityplan.settings import Settings

Audience = Literal["all", "authenticated", "none"]
QueryExecution = Literal["levels", "fields"]
TrustedMode = Literal["off", "allow", "anonymous-registered-only", "registered-only"]


def allows(audience: Audience, caller: Caller | None) -> bool:
    """Whether ``caller`` belongs to ``audience``; an unknown caller counts as anonymous."""
    if audience == "all":
        return True
    if audience == "none":
        return False
    return caller is not None and caller.is_authenticated


@dataclass(frozen=True, slots=True)
class Limits:
    """Per-document limits, all checked before execution (graph/server/limits.py)."""

    max_depth: int = 12
    max_aliases: int = 30
    max_directives: int = 20
    max_tokens: int = 2000
    max_document_bytes: int = 16_384
    max_cost: int = 50_000
    max_page_size: int = 100


@dataclass(frozen=True, slots=True)
class Policy:
    """Everything the HTTP layer and the schema's extensions decide per request."""

    introspection: Audience = "all"
    field_suggestions: Audience = "all"
    graphiql: bool = True
    queries_over_get: bool = True
    mask_errors: bool = True
    limits: Limits = Limits()
    max_body_bytes: int = 262_144
    batch_requests: int = 0
    max_in_flight: int = 20
    cors_origins: tuple[str, ...] = ()
    # Who may send document text rather than a registered document (graph/server/documents.py).
    trusted_documents: TrustedMode = "allow"
    # Queries a level at a time (graph/level_execution.py), or graphql-core's field at a time.
    query_execution: QueryExecution = "levels"


def policy(settings: Settings) -> Policy:
    """Resolve ``settings``: an explicit value wins, else the default of its environment."""
    production = settings.unityplan_env == "production"
    development = settings.unityplan_env == "development"

    def pick(value: bool | None, default: bool) -> bool:
        return default if value is None else value

    return Policy(
        introspection=settings.introspection or ("authenticated" if production else "all"),
        field_suggestions=settings.field_suggestions or ("authenticated" if production else "all"),
        graphiql=pick(settings.graphiql, not production),
        queries_over_get=pick(settings.queries_over_get, not production),
        # Development shows an unexpected error's type and message to speed up debugging; every
        # other environment (the suite included) shows only the generic message and error id.
        mask_errors=pick(settings.mask_errors, not development),
        limits=Limits(
            max_depth=settings.max_query_depth,
            max_aliases=settings.max_aliases,
            max_directives=settings.max_directives,
            max_tokens=settings.max_tokens,
            max_document_bytes=settings.max_document_bytes,
            max_cost=settings.max_query_cost,
            max_page_size=settings.max_page_size,
        ),
        max_body_bytes=settings.max_body_bytes,
        batch_requests=settings.batch_requests,
        max_in_flight=settings.max_in_flight,
        cors_origins=tuple(settings.cors_origins),
        trusted_documents=settings.trusted_documents
        or ("anonymous-registered-only" if production else "allow"),
        query_execution=settings.query_execution,
    )
