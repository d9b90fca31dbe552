"""Relay building blocks: the ``Node`` interface and forward-paginated connections.

The generic parts of the API are described here once: every ``<X>Connection`` and ``<X>Edge``
(Strawberry gives each specialisation of a generic type the generic's own description, so these
texts are written to read right for any item type), ``PageInfo``, ``Node``, and the pagination
arguments ``First`` and ``After`` that every paginated field declares.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from typing import Annotated, Any, Generic, TypeVar

import strawberry
from strawberry.types.lazy_type import LazyType

from domain.errors import BadUserInput
from graph.ids import encode_cursor

DEFAULT_PAGE_SIZE = 20
MAX_PAGE_SIZE = 100

T = TypeVar("T")
R = TypeVar("R")

First = Annotated[
    int | None,
    strawberry.argument(
        description=f"How many items to return: 0 to {MAX_PAGE_SIZE} (BAD_USER_INPUT outside "
        f"that). Null or absent: {DEFAULT_PAGE_SIZE}."
    ),
]
After = Annotated[
    str | None,
    strawberry.argument(
        description="Return the items that follow this cursor: the `pageInfo.endCursor` of the "
        "previous page, or an edge's `cursor`, from this same field. Null or absent: start at "
        "the beginning. BAD_USER_INPUT for a malformed cursor."
    ),
]


@strawberry.interface(
    description="An object with a global id: any object implementing it can be fetched again "
    "with `node(id:)`, which answers exactly as the lists that showed it would."
)
class Node:
    id: strawberry.ID = strawberry.field(
        description="Opaque global id, stable for the object's life: it encodes the type, the "
        "territory and the key, but clients must not take it apart. Pass it to `node(id:)` or to "
        "any argument that asks for this type's id."
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


@strawberry.type(
    description="Where a page sits in its list. Pagination is forward only: ask for the next "
    "page with `after: endCursor` while `hasNextPage` is true."
)
class PageInfo:
    has_next_page: bool = strawberry.field(description="True when more items follow this page.")
    has_previous_page: bool = strawberry.field(
        description="True when this page was asked for with `after` (items come before it)."
    )
    start_cursor: str | None = strawberry.field(
        description="The cursor of the page's first item; null when the page is empty."
    )
    end_cursor: str | None = strawberry.field(
        description="The cursor of the page's last item, to pass as `after` for the next page; "
        "null when the page is empty."
    )


@strawberry.type(
    description="One item of a page together with its cursor. The item is of the type this "
    "type is named after, without the `Edge` suffix."
)
class Edge(Generic[T]):
    cursor: str = strawberry.field(
        description="Opaque position of this item in its list: pass it as `after` to the same "
        "field to get the items that follow it."
    )
    node: T = strawberry.field(description="The item.")


@strawberry.type(
    description="One page of a list, in the order the field returning it states. The items are "
    "of the type this type is named after, without the `Connection` suffix. Take `nodes` when "
    "no cursors are needed; `edges` gives each item its cursor."
)
class Connection(Generic[T]):
    """Nodes are a plain attribute; edges (one cursor per node) are built only when asked for."""

    sort_keys: strawberry.Private[list[str]]

    @strawberry.field(
        description="The items of this page, each with its cursor, in list order "
        f"(at most {MAX_PAGE_SIZE})."
    )
    def edges(self) -> list[Edge[T]]:
        return [
            Edge(cursor=encode_cursor(k), node=n)
            for k, n in zip(self.sort_keys, self.nodes, strict=True)
        ]

    page_info: PageInfo = strawberry.field(
        description="Whether more items follow, and the cursors to ask for them."
    )
    nodes: list[T] = strawberry.field(
        description="The items of this page in list order: the nodes of `edges`, for clients "
        "that need no cursors."
    )


def page_size(first: int | None) -> int:
    """Validate ``first``; the caller fetches one row more to learn whether a next page exists."""
    if first is None:
        return DEFAULT_PAGE_SIZE
    if first < 0 or first > MAX_PAGE_SIZE:
        raise BadUserInput(f"`first` must be between 0 and {MAX_PAGE_SIZE}.", field="first")
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
