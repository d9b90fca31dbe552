"""The request's loaders: one DataLoader per (spec, territory); a batch is ONE statement.

A request that touches several territories gets one loader per territory; the registry lookup that
routes them is itself a loader on ``global``, primed by any registry page the request already read.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from contextlib import AbstractContextManager, nullcontext
from typing import Any, TypeVar, cast

from aiodataloader import DataLoader

from db import territories as registry
from db.engines import Database
from db.territories import TerritoryRecord
from domain.callers import ANONYMOUS, Caller
from domain.territories import TerritoryStatus
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


class Loaders:
    """The request's loader registry; ``caller`` is who the request reads for."""

    def __init__(
        self, db: Database, *, caller: Caller = ANONYMOUS, observe: BatchObserver | None = None
    ) -> None:
        self._db = db
        self._observe = observe or _unobserved
        self.caller = caller
        self._loaders: dict[tuple[object, str], DataLoader[Any, Any]] = {}
        self.territories: DataLoader[str, TerritoryRecord | None] = DataLoader(self._territories)

    async def _territories(self, ids: list[str]) -> list[TerritoryRecord | None]:
        with self._observe("territories", GLOBAL, len(ids)):
            async with self._db.connect(MAIN_SERVER) as conn:
                found = await registry.by_ids(conn, ids)
        return [found.get(i) for i in ids]

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
            db = self._db
            scope = Scope(territory_id, self.caller)

            async def load(keys: list[K]) -> list[V]:
                record = await self.active_territory(territory_id)
                if record is None:
                    return [spec.missing] * len(keys)
                with self._observe(spec.name, territory_id, len(keys)):
                    async with db.connect(record.db_server, territory_id) as conn:
                        return list(await spec.batch(conn, scope, keys))

            loader = DataLoader(load)
            self._loaders[(spec, territory_id)] = loader
        return cast("DataLoader[K, V]", loader)

    def get_global(self, spec: GlobalLoader[K, V]) -> DataLoader[K, V]:
        """The request's loader for ``spec`` over ``global`` on the main server."""
        loader = self._loaders.get((spec, GLOBAL))
        if loader is None:
            db = self._db

            async def load(keys: list[K]) -> list[V]:
                with self._observe(spec.name, GLOBAL, len(keys)):
                    async with db.connect(MAIN_SERVER) as conn:
                        return list(await spec.batch(conn, keys))

            loader = DataLoader(load)
            self._loaders[(spec, GLOBAL)] = loader
        return cast("DataLoader[K, V]", loader)

    # --- the former string-keyed API, removed once every area declares its specs
    def in_territory(
        self, territory_id: str, name: str, batch: Any, *, missing: Any
    ) -> DataLoader[Any, Any]:
        spec = _LEGACY.get(name)
        if spec is None:

            async def adapted(conn: Any, scope: Scope, keys: list[Any]) -> Any:
                return await batch(conn, scope.territory_id, keys)

            spec = _LEGACY[name] = TerritoryLoader(name, adapted, missing=missing)
        return self.get(spec, territory_id)

    def on_main(self, name: str, batch: Any) -> DataLoader[Any, Any]:
        spec = _LEGACY.get(name)
        if spec is None:
            spec = _LEGACY[name] = GlobalLoader(name, batch)
        return self.get_global(spec)

    def forget_territory(self, territory_id: str) -> None:
        """Drop every cached read of ``territory_id``: a write there just committed."""
        for key in [k for k in self._loaders if k[1] in (territory_id, GLOBAL)]:
            del self._loaders[key]


_LEGACY: dict[str, Any] = {}
