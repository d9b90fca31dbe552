"""``_service`` and ``_entities``: what an Apollo Federation 2 gateway asks a subgraph.

Declared here rather than left to ``strawberry.federation.Schema`` so that they carry a permission
class like every root field, and so that ``_entities`` resolves through the same path as
``node(id:)``: ``resolvers/node.py``'s RESOLVERS, i.e. the territory's loaders (one statement per
territory and type for a whole batch of representations) and the same visibility rules. A
representation the caller may not see resolves to null, as in ``nodes``; a forged one (unknown
type, malformed id, an id of another type, a missing key) gets BAD_USER_INPUT at its index.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Annotated

import strawberry
from strawberry.federation.schema import FederationAny
from strawberry.printer import print_schema

from domain.errors import BadUserInput, input_field
from domain.territories import validate_territory_id
from graph import ids
from graph.context import Info
from graph.permissions import Public
from graph.types.federation import Entity
from graph.types.relay import Node
from graph.types.territories import resolve_territory
from resolvers.node import RESOLVERS

MAX_REPRESENTATIONS = 1000


@strawberry.type(name="_Service", description="This subgraph, as a federation gateway sees it.")
class Service:
    sdl: str = strawberry.field(
        description="The subgraph SDL with its federation directives (`@key`, `@shareable`)."
    )


async def entity(info: Info, representation: object) -> Node | None:
    """One representation's object, or None when it does not exist or is not visible."""
    if not isinstance(representation, Mapping):
        raise BadUserInput("A representation is an object with `__typename` and a key.")
    typename = representation.get("__typename")
    if typename == "Territory" and "code" in representation and "id" not in representation:
        code = representation["code"]
        if not isinstance(code, str):
            raise BadUserInput("A territory code is a string.")
        validate_territory_id(code)
        return await resolve_territory(info, code)
    resolver = RESOLVERS.get(typename) if isinstance(typename, str) else None
    if resolver is None:
        raise BadUserInput("Unknown entity type.")
    key = ids.decode(representation.get("id"))
    if key.type_name != typename:
        raise BadUserInput("The id belongs to another type than `__typename`.")
    return await resolver(info, key)


async def _located(info: Info, index: int, representation: object) -> Node | BadUserInput | None:
    """``entity``, with a refusal returned (not raised) so the others still resolve."""
    try:
        with input_field(f"representations.{index}"):
            return await entity(info, representation)
    except BadUserInput as refusal:
        return refusal


@strawberry.type
class FederationQueries:
    @strawberry.field(
        name="_service",
        description="For federation gateways: this subgraph's SDL.",
        permission_classes=[Public],
    )
    def federation_service(self, info: Info) -> Service:
        return Service(sdl=print_schema(info.schema))

    @strawberry.field(
        name="_entities",
        description="For federation gateways: the objects named by `representations`, in order; "
        "null for one that does not exist or that the caller may not see.",
        permission_classes=[Public],
    )
    async def federation_entities(
        self,
        info: Info,
        representations: Annotated[
            list[FederationAny],
            strawberry.argument(
                description=f"Up to {MAX_REPRESENTATIONS} objects, each a `__typename` and a key "
                "(`id`, or `code` for a Territory); BAD_USER_INPUT for a forged one."
            ),
        ],
    ) -> list[Entity | None]:
        if len(representations) > MAX_REPRESENTATIONS:
            raise BadUserInput(
                f"At most {MAX_REPRESENTATIONS} representations per call.", field="representations"
            )
        located = (_located(info, i, r) for i, r in enumerate(representations))
        # A refusal stays in its place in the list: graphql-core reports it at that index.
        return await asyncio.gather(*located)  # type: ignore[return-value]
