"""Loader declarations: what a batch reads, declared once per area as a module-level constant.

An area's loader module (``graph/loaders/<area>.py``) declares specs such as::

    MEMBERSHIPS_OF_USER = TerritoryLoader("communities.memberships_of_user", _of_users, missing=())

and a resolver reads through ``info.context.loaders.get(MEMBERSHIPS_OF_USER, territory_id)``.
The request's registry (graph/loaders/request.py) keys its loaders by the spec object itself, so
two specs can never share a cache; names exist for metrics and traces and are unique as well:
declaring a second spec under a taken name fails at import time.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Hashable, Sequence
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from sqlalchemy.ext.asyncio import AsyncConnection

from domain.callers import Caller

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")

_NAMES: set[str] = set()


class DuplicateLoaderName(ValueError):
    """Two loader specs were declared under one name."""


def _claim(name: str) -> None:
    if name in _NAMES:
        raise DuplicateLoaderName(f"A loader named {name!r} is declared already.")
    _NAMES.add(name)


@dataclass(frozen=True, slots=True)
class Scope:
    """What a batch may depend on besides its keys: the territory it reads and who is asking.

    The caller is fixed for a request, so a batch may decide privacy or permissions for all its
    keys at once (one pass over the batch, never one decision per resolver call).
    """

    territory_id: str
    caller: Caller


TerritoryBatch = Callable[[AsyncConnection, Scope, list[K]], Awaitable[Sequence[V]]]
"""Loads values for ``keys`` (in order) through a connection routed to ``scope.territory_id``."""

GlobalBatch = Callable[[AsyncConnection, list[K]], Awaitable[Sequence[V]]]
"""Loads values for ``keys`` (in order) from the ``global`` schema on the main server."""


@dataclass(frozen=True, eq=False)
class TerritoryLoader(Generic[K, V]):
    """A batch read in one territory's schema; ``missing`` answers every key of a territory that
    is unknown or inactive, so a forged territory in an id reads nothing."""

    name: str
    batch: TerritoryBatch[K, V] = field(repr=False)
    missing: V

    def __post_init__(self) -> None:
        _claim(self.name)


@dataclass(frozen=True, eq=False)
class GlobalLoader(Generic[K, V]):
    """A batch read in the ``global`` schema (role grants, the territory registry)."""

    name: str
    batch: GlobalBatch[K, V] = field(repr=False)

    def __post_init__(self) -> None:
        _claim(self.name)


def declared_names() -> frozenset[str]:
    return frozenset(_NAMES)
