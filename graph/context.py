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
from graph.loaders import Loaders


@dataclass(slots=True)
class Context:
    request: Request | WebSocket
    response: Response | None
    db: Database
    caller: Caller
    loaders: Loaders


Info: TypeAlias = strawberry.Info[Context, None]
