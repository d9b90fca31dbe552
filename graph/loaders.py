"""Per-request dataloaders, one per (territory, loader): each batch is ONE statement in ONE schema.

A request that touches several territories gets one loader per territory; the registry lookup that
routes them is itself a loader on ``global``, primed by any registry page the request already read.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Hashable, Sequence
from contextlib import AbstractContextManager, nullcontext
from typing import Any, TypeVar, cast

from aiodataloader import DataLoader
from sqlalchemy.ext.asyncio import AsyncConnection

from db import registry
from db.engines import Database
from db.registry import TerritoryRecord
from domain.territories import TerritoryStatus
from unityplan.settings import MAIN_SERVER

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")

TerritoryBatch = Callable[[AsyncConnection, str, list[K]], Awaitable[Sequence[V]]]
"""Loads values for ``keys`` (in order) through a connection routed to the territory."""

BatchObserver = Callable[[str, str, int], AbstractContextManager[None]]
"""Wraps each batch, called with (loader name, territory, number of keys): the batch-size metric
and the batch's trace span (graph/observability). The default does nothing."""


def _unobserved(_loader: str, _territory: str, _size: int) -> AbstractContextManager[None]:
    return nullcontext()


class Loaders:
    """The request's loader registry."""

    def __init__(self, db: Database, *, observe: BatchObserver | None = None) -> None:
        self._db = db
        self._observe = observe or _unobserved
        self._loaders: dict[tuple[str, str], DataLoader[Any, Any]] = {}
        self.territories: DataLoader[str, TerritoryRecord | None] = DataLoader(self._territories)

    async def _territories(self, ids: list[str]) -> list[TerritoryRecord | None]:
        with self._observe("territories", "global", len(ids)):
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

    def in_territory(
        self, territory_id: str, name: str, batch: TerritoryBatch[K, V], *, missing: V
    ) -> DataLoader[K, V]:
        """The request's loader ``name`` for ``territory_id``, created on first use.

        ``missing`` answers every key when the territory is unknown or inactive, so a forged
        territory in an id reads nothing and resolves like an absent row.
        """
        loader = self._loaders.get((territory_id, name))
        if loader is None:
            db = self._db

            async def load(keys: list[K]) -> list[V]:
                record = await self.active_territory(territory_id)
                if record is None:
                    return [missing] * len(keys)
                with self._observe(name, territory_id, len(keys)):
                    async with db.connect(record.db_server, territory_id) as conn:
                        return list(await batch(conn, territory_id, keys))

            loader = DataLoader(load)
            self._loaders[(territory_id, name)] = loader
        return cast("DataLoader[K, V]", loader)

    def on_main(
        self, name: str, batch: Callable[[AsyncConnection, list[K]], Awaitable[Sequence[V]]]
    ) -> DataLoader[K, V]:
        """The request's loader ``name`` over ``global`` on the main server (roles, say)."""
        key = ("global", f"main:{name}")
        loader = self._loaders.get(key)
        if loader is None:
            db = self._db

            async def load(keys: list[K]) -> list[V]:
                with self._observe(name, "global", len(keys)):
                    async with db.connect(MAIN_SERVER) as conn:
                        return list(await batch(conn, keys))

            loader = DataLoader(load)
            self._loaders[key] = loader
        return cast("DataLoader[K, V]", loader)
