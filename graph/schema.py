"""Schema assembly: the root types inherit each area's fields."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import strawberry
from graphql import GraphQLError
from strawberry.extensions import ParserCache, SchemaExtension, ValidationCache

from graph.errors import ErrorCodes
from graph.loaders.request import ReleaseReads
from graph.permissions import RejectRefusedToken
from graph.server.limits import DocumentLimits
from graph.server.policy import Policy
from graph.types.accounts import User
from graph.types.communities import Community
from graph.types.invitations import Invitation
from graph.types.profiles import Profile, SocialLink
from graph.types.social_groups import SocialGroup
from graph.types.territories import Territory
from resolvers.accounts import AuthMutations, AuthQueries
from resolvers.communities import CommunityMutations, CommunityQueries
from resolvers.events import EventSubscriptions
from resolvers.invitations import InvitationMutations, InvitationQueries
from resolvers.node import NodeQueries
from resolvers.profiles import ProfileMutations, ProfileQueries
from resolvers.roles import RoleMutations
from resolvers.social_groups import SocialGroupMutations
from resolvers.territories import TerritoryQueries


@strawberry.type(description="What can be read: each field states who may see what it returns.")
class Query(
    NodeQueries, TerritoryQueries, CommunityQueries, AuthQueries, InvitationQueries, ProfileQueries
):
    pass


@strawberry.type(
    description="What can be changed: each mutation names its refusals (error codes in "
    "`extensions.code`, the input field at fault in `extensions.field`)."
)
class Mutation(
    AuthMutations,
    InvitationMutations,
    RoleMutations,
    ProfileMutations,
    SocialGroupMutations,
    CommunityMutations,
):
    pass


@strawberry.type(
    description="What can be followed live over graphql-transport-ws: each subscription states "
    "who may follow what, and is authorized again for every event it delivers."
)
class Subscription(EventSubscriptions):
    pass


class Schema(strawberry.Schema):
    def process_errors(self, errors: list[GraphQLError], execution_context: object = None) -> None:
        """Logging is ErrorCodes' job: it logs unexpected errors once, under their error id."""


def build_schema(
    policy: Policy | None = None,
    observers: Sequence[Callable[[], SchemaExtension]] = (),
) -> Schema:
    """The schema with the front door's policy (limits, suggestions, masking) built in.

    A function of the policy because Strawberry's extensions are per-schema; the SDL does not
    depend on it, so ``schema`` below (development defaults) serves the SDL export. ``observers``
    (graph/observability: metrics, tracing) come first, so their hooks enclose every other
    extension's: they see the final error codes and time the parser and validation caches.
    """
    policy = policy or Policy()
    return Schema(
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        types=[Territory, Community, User, Profile, SocialLink, SocialGroup, Invitation],
        # Factories: a fresh extension per operation; the parse and validation caches themselves
        # are module-level in Strawberry and shared across requests. DocumentLimits comes after
        # ValidationCache (it measures only documents that validated) and caps tokens itself.
        extensions=[
            *observers,
            ReleaseReads,
            lambda: ErrorCodes(suggestions=policy.field_suggestions, mask=policy.mask_errors),
            lambda: ParserCache(maxsize=1024),
            lambda: ValidationCache(maxsize=1024),
            lambda: DocumentLimits(policy),
            RejectRefusedToken,
        ],
    )


schema = build_schema()
