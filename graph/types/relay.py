"""Relay building blocks: the ``Node`` interface and forward-paginated connections."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from typing import Any, Generic, TypeVar

import strawberry
from strawberry.types.lazy_type import LazyType

from domain.errors import BadUserInput
from graph.ids import encode_cursor

DEFAULT_PAGE_SIZE = 20
MAX_PAGE_SIZE = 100

T = TypeVar("T")
R = TypeVar("R")


@strawberry.interface(description="An object with a global id, refetchable with `node(id:)`.")
class Node:
    id: strawberry.ID = strawberry.field(
        description="Opaque global id; encodes the type, the territory and the key."
    )


@strawberry.type
class PersonKey:
    """Whose data a hub mixin reads: the base of every ``User<Area>`` mixin (``UserProfiles``,
    ``UserCommunities``, ...), so an area adds fields to ``User`` from its own module."""

    territory_code: strawberry.Private[str]
    user_id: strawberry.Private[uuid.UUID]


def hub_type(module: str, name: str) -> type[Any]:
    """The hub class ``name`` of ``module`` (``Territory``, ``User``), resolved at first use.

    A hub imports its areas' mixins, so an area cannot import the hub back; where an area must
    build a hub object (a community's territory, a profile's account) it resolves the class the
    way ``strawberry.lazy`` resolves its annotations.
    """
    return LazyType(name, module).resolve_type()


@strawberry.type
class PageInfo:
    has_next_page: bool
    has_previous_page: bool
    start_cursor: str | None
    end_cursor: str | None


@strawberry.type
class Edge(Generic[T]):
    cursor: str
    node: T


@strawberry.type
class Connection(Generic[T]):
    """Nodes are a plain attribute; edges (one cursor per node) are built only when asked for."""

    sort_keys: strawberry.Private[list[str]]

    @strawberry.field
    def edges(self) -> list[Edge[T]]:
        return [
            Edge(cursor=encode_cursor(k), node=n)
            for k, n in zip(self.sort_keys, self.nodes, strict=True)
        ]

    page_info: PageInfo
    nodes: list[T] = strawberry.field(
        description="The nodes of `edges`, for clients that need no cursors."
    )


def page_size(first: int | None) -> int:
    """Validate ``first``; the caller fetches one row more to learn whether a next page exists."""
    if first is None:
        return DEFAULT_PAGE_SIZE
    if first < 0 or first > MAX_PAGE_SIZE:
        raise BadUserInput(f"`first` must be between 0 and {MAX_PAGE_SIZE}.")
    return first


def connection(
    rows: Sequence[R],
    limit: int,
    *,
    sort_key: Callable[[R], str],
    node: Callable[[R], T],
    after: str | None,
) -> Connection[T]:
    """A page from ``rows`` fetched with ``limit + 1`` in keyset order."""
    page = rows[:limit]
    keys = [sort_key(r) for r in page]
    return Connection(
        sort_keys=keys,
        nodes=[node(r) for r in page],
        page_info=PageInfo(
            has_next_page=len(rows) > limit,
            has_previous_page=after is not None,
            start_cursor=encode_cursor(keys[0]) if keys else None,
            end_cursor=encode_cursor(keys[-1]) if keys else None,
        ),
    )
