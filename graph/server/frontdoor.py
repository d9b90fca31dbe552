"""Wire the front door's process-wide parts into the GraphQL view: trusted documents, rate limits
and the WebSocket limits (one place, so graph/server/app.py only calls ``configure_front_door``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING

from redis.asyncio import Redis

from db.engines import Database
from graph.server.documents import TrustedDocuments
from graph.server.ratelimit import RateLimiter, RateLimits
from graph.server.uploads import UploadLimits
from unityplan.settings import Settings

if TYPE_CHECKING:
    from graph.server.app import GraphQLApp


@dataclass(frozen=True, slots=True)
class WSLimits:
    """Per-connection limits of graph/server/websocket.py."""

    max_concurrent_operations: int = 20
    max_operations_per_connection: int = 1000


def configure_front_door(view: GraphQLApp, settings: Settings, db: Database, redis: Redis) -> None:
    """Give ``view``'s HTTP transport and WebSocket handler their documents, limiter and limits."""
    transport = view.transport
    transport.documents = TrustedDocuments(db, transport.policy.trusted_documents)
    transport.limiter = RateLimiter(
        redis, settings.redis_key_prefix, RateLimits.from_settings(settings)
    )
    if view.storage is not None:
        config = view.storage.config
        transport.uploads = UploadLimits(
            config.limits, config.max_files, settings.max_body_bytes, config.temp_dir
        )
    view.connection_init_wait_timeout = timedelta(
        seconds=settings.ws_connection_init_timeout_seconds
    )
    # graph/server/websocket.py enforces the concurrency limit itself, with a code; Strawberry's own
    # check would send an uncoded error first.
    view.max_subscriptions_per_connection = None
    view.ws_limits = WSLimits(
        max_concurrent_operations=settings.ws_max_concurrent_operations,
        max_operations_per_connection=settings.ws_max_operations_per_connection,
    )
