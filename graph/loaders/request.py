"""The request's loaders: one DataLoader per (spec, territory); a batch is ONE statement.

A request that touches several territories gets one loader per territory; the registry lookup that
routes them is itself a loader on ``global``, primed by any registry page the request already read.

Reads borrow ONE pooled connection per database server for the whole request, in autocommit (no
BEGIN/ROLLBACK round trips around a SELECT), and return it when the operation ends
(``ReleaseReads``). Batches on one server take turns on that connection, each routed to its
territory's schema just before it runs; writes never use it (they open their own transaction).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Hashable, Sequence
from contextlib import AbstractContextManager, asynccontextmanager, nullcontext
from typing import Any, TypeVar, cast

from aiodataloader import DataLoader
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection
from strawberry.extensions import SchemaExtension

from db import territories as registry
from db.engines import Database
from db.models import TERRITORY_PLACEHOLDER
from db.territories import TerritoryRecord
from domain.callers import ANONYMOUS, Caller
from domain.territories import TerritoryStatus, schema_name
from graph.loaders.spec import GlobalLoader, Scope, TerritoryLoader
from unityplan.settings import MAIN_SERVER

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")

BatchObserver = Callable[[str, str, int], AbstractContextManager[None]]
"""Wraps each batch, called with (loader name, territory, number of keys): the batch-size metric
and the batch's trace span (graph/observability). The default does nothing."""

GLOBAL = "global"


def _unobserved(_loader: str, _territory: str, _size: int) -> AbstractContextManager[None]:
    return nullcontext()


async def _registry_rows(conn: AsyncConnection, ids: list[str]) -> list[TerritoryRecord | None]:
    found = await registry.by_ids(conn, ids)
    return [found.get(i) for i in ids]


class _ReadConnection:
    """A server's connection for the request's reads, opened at the first batch that needs it."""

    __slots__ = ("conn", "lock")

    def __init__(self) -> None:
        self.lock = asyncio.Lock()
        self.conn: AsyncConnection | None = None


class Loaders:
    """The request's loader registry; ``caller`` is who the request reads for."""

    def __init__(
        self, db: Database, *, caller: Caller = ANONYMOUS, observe: BatchObserver | None = None
    ) -> None:
        self._db = db
        self._observe = observe or _unobserved
        self.caller = caller
        self._loaders: dict[tuple[object, str], DataLoader[Any, Any]] = {}
        self._reads: dict[str, _ReadConnection] = {}
        self._closed = False
        self.territories: DataLoader[str, TerritoryRecord | None] = DataLoader(self._territories)

    @asynccontextmanager
    async def reading(
        self, server: str, territory_id: str | None
    ) -> AsyncIterator[AsyncConnection]:
        """The request's read connection to ``server``, routed to ``territory_id``'s schema.

        After ``close`` (a late read of a WebSocket operation whose loaders were replaced, say) each
        read borrows and returns a connection of its own, so nothing is left checked out.
        """
        if self._closed:
            async with self._db.connect(server, territory_id) as conn:
                yield conn
            return
        slot = self._reads.get(server)
        if slot is None:
            slot = self._reads[server] = _ReadConnection()
        async with slot.lock:
            if slot.conn is None:
                conn = await self._db.engine(server).connect()
                slot.conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
            if territory_id is not None:
                await slot.conn.execution_options(
                    schema_translate_map={TERRITORY_PLACEHOLDER: schema_name(territory_id)}
                )
            try:
                yield slot.conn
            except BaseException:
                # The connection may be broken (a dead backend, a cancelled statement): give it
                # back now; the next batch borrows a fresh one.
                stale, slot.conn = slot.conn, None
                await stale.close()
                raise

    async def _read(
        self,
        server: str,
        territory_id: str | None,
        batch: Callable[[AsyncConnection], Awaitable[Sequence[V]]],
    ) -> list[V]:
        """Run a read batch; once more on a fresh connection if the first one was found dead
        (a restarted server leaves every pooled connection dead, and reads are idempotent)."""
        try:
            async with self.reading(server, territory_id) as conn:
                return list(await batch(conn))
        except DBAPIError as error:
            if not error.connection_invalidated:
                raise
        async with self.reading(server, territory_id) as conn:
            return list(await batch(conn))

    async def release_reads(self) -> None:
        """Give the request's read connections back to their pools; later reads borrow anew.

        A write calls this before it opens its transaction (resolvers/common.py), so a request
        never holds two connections of one pool at once. Holding an idle read connection while
        waiting for a write connection starved the pool: 20 parallel mutations on a pool of 10
        each held one and waited for a second until POOL_TIMEOUT.
        """
        for slot in list(self._reads.values()):
            async with slot.lock:
                if slot.conn is not None:
                    stale, slot.conn = slot.conn, None
                    await stale.close()

    async def close(self) -> None:
        """Return every read connection to its pool for good, and drop what was read; idempotent.

        Each loader's batch function refers back to this registry, so the registry, its loaders
        and every cached record form one reference cycle that only the garbage collector frees:
        ~18,000 objects per forum page, collected in pauses of up to 200 ms under load
        (benchmarks/forums.py). Dropping the caches here lets reference counting free them the
        moment the operation ends. A late read after this still works: it loads afresh.
        """
        self._closed = True
        await self.release_reads()
        for loader in self._loaders.values():
            loader.clear_all()
        self._loaders.clear()
        self.territories.clear_all()

    async def _territories(self, ids: list[str]) -> list[TerritoryRecord | None]:
        with self._observe("territories", GLOBAL, len(ids)):
            return await self._read(MAIN_SERVER, None, lambda c: _registry_rows(c, ids))

    def prime_territories(self, records: Sequence[TerritoryRecord]) -> None:
        for record in records:
            self.territories.prime(record.id, record)

    async def active_territory(self, territory_id: str) -> TerritoryRecord | None:
        record = await self.territories.load(territory_id)
        if record is None or record.status is not TerritoryStatus.ACTIVE:
            return None
        return record

    def get(self, spec: TerritoryLoader[K, V], territory_id: str) -> DataLoader[K, V]:
        """The request's loader for ``spec`` in ``territory_id``, created on first use."""
        loader = self._loaders.get((spec, territory_id))
        if loader is None:
            scope = Scope(territory_id, self.caller)

            async def load(keys: list[K]) -> list[V]:
                record = await self.active_territory(territory_id)
                if record is None:
                    return [spec.missing] * len(keys)
                with self._observe(spec.name, territory_id, len(keys)):
                    return await self._read(
                        record.db_server, territory_id, lambda c: spec.batch(c, scope, keys)
                    )

            loader = DataLoader(load)
            self._loaders[(spec, territory_id)] = loader
        return cast("DataLoader[K, V]", loader)

    def get_global(self, spec: GlobalLoader[K, V]) -> DataLoader[K, V]:
        """The request's loader for ``spec`` over ``global`` on the main server."""
        loader = self._loaders.get((spec, GLOBAL))
        if loader is None:

            async def load(keys: list[K]) -> list[V]:
                with self._observe(spec.name, GLOBAL, len(keys)):
                    return await self._read(MAIN_SERVER, None, lambda c: spec.batch(c, keys))

            loader = DataLoader(load)
            self._loaders[(spec, GLOBAL)] = loader
        return cast("DataLoader[K, V]", loader)

    def forget_territory(self, territory_id: str) -> None:
        """Drop every cached read of ``territory_id``: a write there just committed."""
        for key in [k for k in self._loaders if k[1] in (territory_id, GLOBAL)]:
            del self._loaders[key]


class ReleaseReads(SchemaExtension):
    """Give the operation's read connections back to their pools as soon as it has a result."""

    async def on_operation(self) -> AsyncIterator[None]:
        loaders = getattr(self.execution_context.context, "loaders", None)
        try:
            yield
        finally:
            if isinstance(loaders, Loaders):
                await loaders.close()
