"""The per-request context every resolver receives."""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Hashable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, TypeAlias

import strawberry
from starlette.requests import Request
from starlette.responses import Response
from starlette.websockets import WebSocket

from db.engines import Database
from domain.callers import Caller
from domain.clock import Clock, utc_now
from domain.errors import Unauthenticated, Unavailable
from events.fanout import FanOut
from graph.loaders.request import Loaders
from graph.server.auth import AuthServices

if TYPE_CHECKING:
    from files.storage import FileStorage


class SharedChecks:
    """Answers to per-event authorization questions, shared by the subscribers that ask the same.

    A live event reaches every subscriber of its community at once; each must be authorized
    afresh, but subscribers with the same caller (every anonymous one, say) ask the same question
    about the same event. One read answers them all, instead of one pooled connection per
    subscriber at the same moment. Keys name the event, so nothing is reused across events; the
    oldest answers are forgotten past ``size`` (a subscriber that far behind just asks again).
    """

    def __init__(self, size: int = 4096) -> None:
        self._size = size
        self._answers: OrderedDict[Hashable, asyncio.Task[None]] = OrderedDict()

    def check(self, key: Hashable, ask: Callable[[], Awaitable[None]]) -> asyncio.Task[None]:
        """The task answering ``key`` (it raises when refused), started by the first asker.

        A task of its own, so a subscriber that disconnects mid-check cancels nobody else's.
        """
        task = self._answers.get(key)
        if task is None:
            task = asyncio.ensure_future(ask())
            # Retrieved here so an unawaited failure is never reported as "never retrieved".
            task.add_done_callback(lambda t: t.cancelled() or t.exception())
            self._answers[key] = task
            while len(self._answers) > self._size:
                self._answers.popitem(last=False)
        return task


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
    # The request's first rate-limit token, when the session check took it in its Redis round
    # trip: seconds to wait (0: allowed). None: not taken yet (graph/server/transport.py).
    rate_wait: int | None = None
    # Set by Strawberry from a WebSocket's connection_init payload.
    connection_params: dict[str, object] | None = None
    # Live events of this process (events/fanout.py): what subscriptions read; None without NATS
    # machinery (an app whose lifespan did not run).
    fanout: FanOut | None = None
    # Per-event authorization answers shared by this app's subscribers (resolvers/events.py).
    shared_checks: SharedChecks = field(default_factory=SharedChecks)
    # The API's public base URL (PUBLIC_URL): which credential issuers are this API's own.
    public_url: str = "http://127.0.0.1:8000"
    # "Now" for every time rule (badge validity, the Code of Conduct gate): tests inject theirs.
    clock: Clock = utc_now
    # Files on IPFS (files/storage.py): the node and the limits; None where no app built one.
    storage: FileStorage | None = None
    # How the query was executed (graph/level_execution.py): "levels", or why the standard
    # executor answered ("operation", "abstract", "error", ...); None before execution.
    execution: str | None = None

    @property
    def services(self) -> AuthServices:
        assert self.auth is not None, "the app always provides AuthServices"
        return self.auth


Info: TypeAlias = strawberry.Info[Context, None]
