"""One async engine (one connection pool) per database server, and routing into territory schemas.

Routing renders the schema name into each statement with ``schema_translate_map``. Session state
such as ``SET search_path`` is never used on pooled connections: it outlives the checkout and would
route the next borrower to the previous caller's territory.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from db.models import GLOBAL_SCHEMA, TERRITORY_PLACEHOLDER
from domain.errors import Unavailable
from domain.territories import schema_name

StatementListener = Callable[[str, str], None]
"""Called with (server key, SQL text) for every statement sent to a server (transaction control
and pool pings included): metrics and statement counting."""

EngineListener = Callable[[str, AsyncEngine], None]
"""Called with (server key, engine) for each engine, once, when it is created: SQL tracing and
pool metrics (graph/observability) attach to engines this way, since they are created lazily."""


def async_url(dsn: str) -> URL:
    """Accept plain ``postgresql://`` DSNs from operators and use the asyncpg driver."""
    url = make_url(dsn)
    if url.drivername in ("postgresql", "postgres", "postgresql+psycopg", "postgresql+psycopg2"):
        url = url.set(drivername="postgresql+asyncpg")
    return url


_TRANSACTION_CONTROL = ("BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE", ";")


def _is_transaction_control(sql: str) -> bool:
    return sql.lstrip().upper().startswith(_TRANSACTION_CONTROL)


class Database:
    """The database servers a process talks to, each behind one lazily created pool."""

    def __init__(
        self, servers: dict[str, str], *, pool_size: int = 10, pool_timeout: float = 10.0
    ) -> None:
        self._dsns = dict(servers)
        self._pool_size = pool_size
        self._pool_timeout = pool_timeout
        self._engines: dict[str, AsyncEngine] = {}
        self._routed: dict[tuple[str, str], AsyncEngine] = {}
        self._listeners: list[StatementListener] = []
        self._engine_listeners: list[EngineListener] = []

    @property
    def server_keys(self) -> list[str]:
        return list(self._dsns)

    def dsn(self, server: str) -> str:
        return self._dsns[server]

    def add_statement_listener(self, listener: StatementListener) -> None:
        self._listeners.append(listener)

    def remove_statement_listener(self, listener: StatementListener) -> None:
        self._listeners.remove(listener)

    def add_engine_listener(self, listener: EngineListener) -> None:
        """Call ``listener`` for every engine: those that exist now and each one created later."""
        self._engine_listeners.append(listener)
        for server, engine in self._engines.items():
            listener(server, engine)

    def remove_engine_listener(self, listener: EngineListener) -> None:
        self._engine_listeners.remove(listener)

    def engine(self, server: str) -> AsyncEngine:
        engine = self._engines.get(server)
        if engine is None:
            if server not in self._dsns:
                raise Unavailable(f"Database server '{server}' is not configured on this node.")
            engine = create_async_engine(
                async_url(self._dsns[server]),
                pool_size=self._pool_size,
                max_overflow=self._pool_size,
                pool_timeout=self._pool_timeout,
                # No liveness ping per checkout (with asyncpg it is BEGIN, a query and ROLLBACK:
                # three round trips before every request's first statement). A connection found
                # dead fails its statement and SQLAlchemy then recycles the whole pool; reads retry
                # once on a fresh connection (graph/loaders/request.py).
                pool_pre_ping=False,
                pool_recycle=1800,
                # Errors must never carry bound values (password hashes, tokens) into logs.
                hide_parameters=True,
            )
            listeners = self._listeners

            def _sent(query: Any) -> None:
                if _is_transaction_control(query.query):
                    for listener in listeners:
                        listener(server, query.query)

            def _before(_c: Any, _cur: Any, statement: str, *_a: Any) -> None:
                for listener in listeners:
                    listener(server, statement)

            def _checked_out(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
                # SQLAlchemy's cursor events see the statements it prepares; asyncpg's query
                # logger sees transaction control (BEGIN, COMMIT, ROLLBACK), which those events
                # do not. asyncpg's type introspection, once per new connection, is not counted.
                if not record.info.get("query_logger"):
                    dbapi_connection.driver_connection.add_query_logger(_sent)
                    record.info["query_logger"] = True

            event.listen(engine.sync_engine, "before_cursor_execute", _before)
            event.listen(engine.sync_engine, "checkout", _checked_out)
            self._engines[server] = engine
            for engine_listener in self._engine_listeners:
                engine_listener(server, engine)
        return engine

    def territory_engine(self, server: str, territory_id: str) -> AsyncEngine:
        """The server's engine with territory tables routed to ``territory_<id>``."""
        key = (server, territory_id)
        routed = self._routed.get(key)
        if routed is None:
            routed = self.engine(server).execution_options(
                schema_translate_map={TERRITORY_PLACEHOLDER: schema_name(territory_id)}
            )
            self._routed[key] = routed
        return routed

    def _routed_engine(self, server: str, territory_id: str | None) -> AsyncEngine:
        if territory_id is None:
            return self.engine(server)
        return self.territory_engine(server, territory_id)

    @asynccontextmanager
    async def connect(
        self, server: str, territory_id: str | None = None
    ) -> AsyncIterator[AsyncConnection]:
        """A pooled connection for reads; territory tables routed when ``territory_id`` is given."""
        async with self._routed_engine(server, territory_id).connect() as conn:
            yield conn

    @asynccontextmanager
    async def transaction(
        self, server: str, territory_id: str | None = None
    ) -> AsyncIterator[AsyncConnection]:
        """A connection inside one transaction, committed on success, rolled back on any error."""
        async with self._routed_engine(server, territory_id).begin() as conn:
            yield conn

    async def ping(self, server: str, timeout: float = 2.0) -> bool:
        try:
            async with asyncio.timeout(timeout), self.engine(server).connect() as conn:
                await conn.execute(text("SELECT 1"))
        except Exception:
            return False
        return True

    async def dispose(self) -> None:
        for engine in self._engines.values():
            await engine.dispose()
        self._engines.clear()
        self._routed.clear()


__all__ = ["GLOBAL_SCHEMA", "Database", "async_url"]
