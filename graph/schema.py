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
    # Factories: a fresh extension per operation; the parse and validation caches themselves are
    # module-level in Strawberry and shared across requests.
    extensions=[
        ErrorCodes,
        lambda: ParserCache(maxsize=1024),
        lambda: ValidationCache(maxsize=1024),
        lambda: QueryDepthLimiter(max_depth=12),
        lambda: MaxAliasesLimiter(max_alias_count=30),
        lambda: MaxTokensLimiter(max_token_count=2000),
    ],
)
