"""The ASGI application: GraphQL at /graphql, health probes, and process-wide resources."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route, WebSocketRoute
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.exceptions import ConnectionRejectionError
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL
from strawberry.types.unset import UNSET, UnsetType

from db.engines import Database
from domain.callers import ANONYMOUS, Caller
from domain.clock import Clock, utc_now
from domain.errors import Unauthenticated, Unavailable
from events.fanout import FanOut
from events.runtime import start_events
from graph.context import Context, SharedChecks
from graph.loaders.request import BatchObserver, Loaders
from graph.observability import Observability, configure_logging
from graph.schema import Schema, build_schema, schema
from graph.server.auth import AuthServices, authenticate_http, authenticate_ws
from graph.server.csrf import cors_middleware
from graph.server.frontdoor import WSLimits, configure_front_door
from graph.server.graphiql import graphiql_html, graphiql_static_routes
from graph.server.health import healthz, readyz
from graph.server.policy import Policy, policy
from graph.server.runtime import tune_gc
from graph.server.transport import Transport
from graph.server.websocket import TransportWSHandler
from unityplan.settings import Settings, get_settings


class GraphQLApp(GraphQL[Context, None]):
    """Strawberry's ASGI view with our context; HTTP requests go through graph.server.transport."""

    # graphql-transport-ws only, through graph/server/websocket.py's per-operation checks.
    graphql_transport_ws_handler_class = TransportWSHandler
    ws_limits = WSLimits()

    def __init__(
        self,
        db: Database,
        *,
        graphiql: bool,
        policy: Policy | None = None,
        graphql_schema: Schema | None = None,
        auth: AuthServices | None = None,
        observe_batch: BatchObserver | None = None,
        clock: Clock = utc_now,
    ) -> None:
        super().__init__(
            graphql_schema or schema,
            graphql_ide="graphiql" if graphiql else None,
            subscription_protocols=[GRAPHQL_TRANSPORT_WS_PROTOCOL],
        )
        self.db = db
        self.auth = auth
        self.observe_batch = observe_batch
        self.clock = clock
        # The process's live-event fan-out (events/fanout.py), set by the lifespan once started;
        # None where no lifespan runs (tests driving the app through httpx's ASGI transport).
        self.fanout: FanOut | None = None
        self.shared_checks = SharedChecks()
        self.transport = Transport(self, policy or Policy(graphiql=graphiql))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            response = await self.transport(Request(scope, receive))
            await response(scope, receive, send)
        else:
            await super().__call__(scope, receive, send)

    async def get_context(
        self, request: Request | WebSocket, response: Response | WebSocket
    ) -> Context:
        caller, auth_error, rate_wait = ANONYMOUS, None, None
        if self.auth is not None and isinstance(request, Request):
            caller, auth_error, rate_wait = await authenticate_http(
                self.auth, request, self.transport.limiter
            )
        return Context(
            request=request,
            response=response if isinstance(response, Response) else None,
            db=self.db,
            caller=caller,
            loaders=self.loaders_for(caller),
            auth=self.auth,
            auth_error=auth_error,
            rate_wait=rate_wait,
            fanout=self.fanout,
            shared_checks=self.shared_checks,
            clock=self.clock,
        )

    def loaders_for(self, caller: Caller) -> Loaders:
        """Fresh loaders reading for ``caller``: one set per HTTP request or WebSocket operation."""
        return Loaders(self.db, caller=caller, observe=self.observe_batch)

    async def on_ws_connect(self, context: Context) -> UnsetType | dict[str, object] | None:
        """WebSocket clients authenticate in ``connection_init``; a bad token closes with 4403."""
        if self.auth is not None:
            try:
                context.caller = await authenticate_ws(self.auth, context.connection_params or {})
                context.loaders = self.loaders_for(context.caller)
            except (Unauthenticated, Unavailable) as error:
                raise ConnectionRejectionError({"code": error.code}) from None
        unset: UnsetType = UNSET
        return unset

    async def render_graphql_ide(self, request: Request) -> Response:
        """GraphiQL with every asset served by this app, so it works with no CDN in reach."""
        return HTMLResponse(graphiql_html())


def create_app(
    settings: Settings | None = None,
    db: Database | None = None,
    observability: Observability | None = None,
    clock: Clock = utc_now,
) -> Starlette:
    """Build the app; ``db`` may be passed in by tests that own the engines, ``observability``
    by tests that read its metrics or spans (else it is built from the settings), ``clock`` by
    tests that move time (badge validity, the Code of Conduct gate)."""
    settings = settings or get_settings()
    owns_db = db is None
    database = db or Database(
        settings.servers(),
        pool_size=settings.database_pool_size,
        pool_timeout=settings.database_pool_timeout,
    )
    redis = redis_client(settings)
    auth = AuthServices.from_settings(settings, redis, database)
    front_door = policy(settings)
    graphiql = front_door.graphiql
    observe = observability or Observability.from_settings(settings)
    observe.attach(database)
    graphql = GraphQLApp(
        database,
        graphiql=graphiql,
        policy=front_door,
        graphql_schema=build_schema(front_door, observe.schema_extensions()),
        auth=auth,
        observe_batch=observe.observe_batch,
        clock=clock,
    )
    configure_front_door(graphql, settings, database, redis)

    @asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        tune_gc(settings.gc_gen0_threshold)
        # Never waits for NATS: the API serves (and mutations commit to the outbox) while it is
        # down. The relay runs here unless EVENTS_RELAY=false.
        events = await start_events(settings)
        _app.state.events = events
        graphql.fanout = events.fanout
        try:
            yield
        finally:
            graphql.fanout = None
            await events.stop()
            observe.shutdown()
            await redis.aclose()
            if owns_db:
                await database.dispose()

    app = Starlette(
        routes=[
            Route("/healthz", healthz, methods=["GET"]),
            Route("/readyz", readyz, methods=["GET"]),
            Route("/.well-known/jwks.json", jwks, methods=["GET"]),
            # Every method reaches graph.server.transport, which answers a coded 405 for the others.
            Route("/graphql", graphql),
            WebSocketRoute("/graphql", graphql),
            *(graphiql_static_routes() if graphiql else []),
            *observe.routes(),
        ],
        lifespan=lifespan,
        # The request id first (outermost): every response, CORS preflights included, has one.
        middleware=[observe.middleware(), *cors_middleware(front_door)],
    )
    app.state.settings = settings
    app.state.db = database
    app.state.redis = redis
    app.state.auth = auth
    app.state.observability = observe
    return app


def redis_client(settings: Settings) -> Redis:
    """The process's Redis client, built to survive a Redis restart without failing requests.

    redis-py keeps pooled sockets that a restarted server has closed; each failed the next
    command on it (10 of 30 requests minutes after a restart). Now a connection idle for
    ``REDIS_HEALTH_CHECK_SECONDS`` is PINGed before use, and a command that meets a dropped
    connection is retried ONCE on a new one, with no backoff. Retrying is safe for what we send:
    reads, SET/DEL/EXPIRE, and counters (login failures, rate buckets) where a repeated INCR
    counts one attempt too many, erring on the strict side. A Redis that stays down still fails
    after one retry, within ``REDIS_SOCKET_TIMEOUT_SECONDS``, as SERVICE_UNAVAILABLE.
    """
    return Redis.from_url(
        settings.redis_url,
        health_check_interval=settings.redis_health_check_seconds,
        socket_timeout=settings.redis_socket_timeout_seconds,
        socket_connect_timeout=settings.redis_socket_timeout_seconds,
        retry=Retry(NoBackoff(), 1),
        retry_on_error=[RedisConnectionError, RedisTimeoutError],
    )


async def jwks(request: Request) -> Response:
    """The public keys that verify access tokens, by ``kid`` (RFC 7517)."""
    auth: AuthServices = request.app.state.auth
    return JSONResponse(auth.config.keys.jwks(), headers={"Cache-Control": "public, max-age=300"})


def app() -> Starlette:
    """Factory for ``uvicorn --factory graph.server.app:app``; each worker process configures its
    logs."""
    configure_logging(get_settings())
    return create_app()
