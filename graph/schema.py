"""Schema assembly: the root types inherit each area's fields."""

from __future__ import annotations

import strawberry
from graphql import GraphQLError
from strawberry.extensions import (
    MaxAliasesLimiter,
    MaxTokensLimiter,
    ParserCache,
    QueryDepthLimiter,
    ValidationCache,
)

from graph.errors import ErrorCodes
from graph.types.community import Community
from graph.types.territory import Territory
from resolvers.communities import CommunityQueries
from resolvers.node import NodeQueries
from resolvers.territories import TerritoryQueries


@strawberry.type
class Query(NodeQueries, TerritoryQueries, CommunityQueries):
    pass


class Schema(strawberry.Schema):
    def process_errors(self, errors: list[GraphQLError], execution_context: object = None) -> None:
        """Logging is ErrorCodes' job: it logs unexpected errors once, under their error id."""


schema = Schema(
    query=Query,
    types=[Territory, Community],
    # Strawberry accepts extension instances (the caches must outlive a request); its annotation
    # only names classes and factories.
    extensions=[
        ErrorCodes,
        ParserCache(maxsize=1024),  # type: ignore[list-item]
        ValidationCache(maxsize=1024),  # type: ignore[list-item]
        QueryDepthLimiter(max_depth=12),  # type: ignore[list-item]
        MaxAliasesLimiter(max_alias_count=30),  # type: ignore[list-item]
        MaxTokensLimiter(max_token_count=2000),  # type: ignore[list-item]
    ],
)
