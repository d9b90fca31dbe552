"""The ASGI application: GraphQL at /graphql, health probes, and process-wide resources."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from redis.asyncio import Redis
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL

from db.engines import Database
from domain.callers import ANONYMOUS
from graph.context import Context
from graph.graphiql import graphiql_html, graphiql_static_routes
from graph.health import healthz, readyz
from graph.loaders import Loaders
from graph.schema import schema
from unityplan.settings import Settings, get_settings


class GraphQLApp(GraphQL[Context, None]):
    """Strawberry's ASGI view with our context."""

    def __init__(self, db: Database, *, graphiql: bool) -> None:
        super().__init__(
            schema,
            graphql_ide="graphiql" if graphiql else None,
            subscription_protocols=[GRAPHQL_TRANSPORT_WS_PROTOCOL],
        )
        self.db = db

    async def get_context(
        self, request: Request | WebSocket, response: Response | WebSocket
    ) -> Context:
        return Context(
            request=request,
            response=response if isinstance(response, Response) else None,
            db=self.db,
            caller=ANONYMOUS,
            loaders=Loaders(self.db),
        )

    async def render_graphql_ide(self, request: Request) -> Response:
        """GraphiQL with every asset served by this app, so it works with no CDN in reach."""
        return HTMLResponse(graphiql_html())


def create_app(settings: Settings | None = None, db: Database | None = None) -> Starlette:
    """Build the app; ``db`` may be passed in by tests that own the engines."""
    settings = settings or get_settings()
    owns_db = db is None
    database = db or Database(
        settings.servers(),
        pool_size=settings.database_pool_size,
        pool_timeout=settings.database_pool_timeout,
    )
    redis = Redis.from_url(settings.redis_url)
    graphiql = settings.unityplan_env != "production"
    graphql = GraphQLApp(database, graphiql=graphiql)

    @asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        try:
            yield
        finally:
            await redis.aclose()
            if owns_db:
                await database.dispose()

    app = Starlette(
        routes=[
            Route("/healthz", healthz, methods=["GET"]),
            Route("/readyz", readyz, methods=["GET"]),
            Route("/graphql", graphql, methods=["GET", "POST"]),
            WebSocketRoute("/graphql", graphql),
            *(graphiql_static_routes() if graphiql else []),
        ],
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.db = database
    app.state.redis = redis
    return app


def app() -> Starlette:
    """Factory for ``uvicorn --factory graph.app:app``."""
    return create_app()
