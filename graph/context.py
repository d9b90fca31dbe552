"""The per-request context every resolver receives."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypeAlias

import strawberry
from starlette.requests import Request
from starlette.responses import Response
from starlette.websockets import WebSocket

from db.engines import Database
from domain.callers import Caller
from domain.errors import Unauthenticated, Unavailable
from events.fanout import FanOut
from graph.loaders.request import Loaders
from graph.server.auth import AuthServices


@dataclass(slots=True)
class Context:
    request: Request | WebSocket
    response: Response | None
    db: Database
    caller: Caller
    loaders: Loaders
    # Identity and access (graph/server/auth.py): the services, and why a presented token was
    # refused.
    auth: AuthServices | None = None
    auth_error: Unauthenticated | Unavailable | None = None
    # Set by Strawberry from a WebSocket's connection_init payload.
    connection_params: dict[str, object] | None = None
    # Live events of this process (events/fanout.py): what subscriptions read; None without NATS
    # machinery (an app whose lifespan did not run).
    fanout: FanOut | None = None

    @property
    def services(self) -> AuthServices:
        assert self.auth is not None, "the app always provides AuthServices"
        return self.auth


Info: TypeAlias = strawberry.Info[Context, None]
