"""Schema assembly: the root types inherit each area's fields."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import strawberry
import strawberry.federation
from graphql import GraphQLError, Node, SchemaDefinitionNode, TypeDefinitionNode, parse
from strawberry.extensions import ParserCache, SchemaExtension

from graph.code_of_conduct import CodeOfConductGate
from graph.errors import ErrorCodes
from graph.level_execution import LevelExecutor
from graph.loaders.request import ReleaseReads
from graph.permissions import RejectRefusedToken
from graph.server.limits import DocumentLimits
from graph.server.policy import Policy
from graph.shared_events import SharedEventExecutor
from graph.types.federation import ENTITY_TYPES, FEDERATION_VERSION
from resolvers.accounts import AuthMutations, AuthQueries
from resolvers.badges import BadgeAwardMutations, BadgeMutations, BadgeQueries
from resolvers.code_of_conduct import CodeOfConductMutations, CodeOfConductQueries
from resolvers.communities import CommunityMutations, CommunityQueries
from resolvers.credentials import CredentialMutations, CredentialQueries
from resolvers.events import EventSubscriptions
from resolvers.federation import FederationQueries
from resolvers.files import FileMutations
from resolvers.forums import (
    ForumModerationMutations,
    ForumMutations,
    ForumQueries,
    ForumSubscriptions,
)
from resolvers.invitations import InvitationMutations, InvitationQueries
from resolvers.node import NodeQueries
from resolvers.notifications import NotificationMutations, NotificationSubscriptions
from resolvers.profiles import ProfileMutations, ProfileQueries
from resolvers.roles import RoleMutations
from resolvers.social_groups import SocialGroupMutations
from resolvers.territories import TerritoryQueries


@strawberry.type(description="What can be read: each field states who may see what it returns.")
class Query(
    NodeQueries,
    TerritoryQueries,
    CommunityQueries,
    AuthQueries,
    InvitationQueries,
    ProfileQueries,
    ForumQueries,
    FederationQueries,
    CredentialQueries,
    BadgeQueries,
    CodeOfConductQueries,
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
    NotificationMutations,
    BadgeMutations,
    BadgeAwardMutations,
    CredentialMutations,
    CodeOfConductMutations,
    FileMutations,
    ForumMutations,
    ForumModerationMutations,
):
    pass


@strawberry.type(
    description="What can be followed live over graphql-transport-ws: each subscription states "
    "who may follow what, and is authorized again for every event it delivers."
)
class Subscription(EventSubscriptions, NotificationSubscriptions, ForumSubscriptions):
    pass


class Schema(strawberry.federation.Schema):
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
        types=[*ENTITY_TYPES],
        federation_version=FEDERATION_VERSION,
        # Queries a level at a time (graph/level_execution); a live event is executed once per
        # caller, not once per subscriber (graph/shared_events), under either.
        execution_context_class=(
            LevelExecutor if policy.query_execution == "levels" else SharedEventExecutor
        ),
        # Factories: a fresh extension per operation; the parse and validation caches themselves
        # are module-level and shared across requests. DocumentLimits stands in for Strawberry's
        # ValidationCache: it caps tokens while parsing, counts aliases and directives before
        # validating (cached) and measures depth and cost only on documents that validated.
        extensions=[
            *observers,
            ReleaseReads,
            lambda: ErrorCodes(suggestions=policy.field_suggestions, mask=policy.mask_errors),
            lambda: ParserCache(maxsize=1024),
            lambda: DocumentLimits(policy),
            RejectRefusedToken,
            CodeOfConductGate,
        ],
    )


schema = build_schema()

FEDERATION_TYPES = frozenset({"_Any", "_Entity", "_Service"})
FEDERATION_FIELDS = frozenset({"_service", "_entities"})
FEDERATION_DIRECTIVES = frozenset({"key", "shareable", "inaccessible", "link"})


def subgraph_sdl(graphql_schema: Schema = schema) -> str:
    """What ``_service { sdl }`` answers and a gateway composes: the SDL with federation's parts."""
    return graphql_schema.as_str()


def public_sdl(graphql_schema: Schema = schema) -> str:
    """The SDL for clients (schema.graphql): the subgraph SDL without federation's plumbing.

    Clients query through a gateway or this API directly; neither needs ``_entities``,
    ``_service``, ``_Any`` or the ``@key``/``@shareable``/``@link`` directives, and client tooling
    (linters, code generators) does not know those directive definitions. Cut out of Strawberry's
    own printout by their source positions, so everything else stays exactly as Strawberry prints
    it and schema.graphql only changes when the client-visible schema does.
    """
    sdl = subgraph_sdl(graphql_schema)
    cuts: list[tuple[int, int]] = []
    for definition in parse(sdl).definitions:
        if isinstance(definition, SchemaDefinitionNode) or (
            isinstance(definition, TypeDefinitionNode) and definition.name.value in FEDERATION_TYPES
        ):
            cuts.append(_span(definition))
            continue
        for directive in getattr(definition, "directives", None) or ():
            if directive.name.value in FEDERATION_DIRECTIVES:
                start, end = _span(directive)
                cuts.append((start - 1, end))  # with the space before it
        for field in getattr(definition, "fields", None) or ():
            if field.name.value in FEDERATION_FIELDS:
                start, end = _span(field)
                cuts.append((sdl.rindex("\n\n", 0, start) + 1, end))  # with the blank line
    for start, end in sorted(cuts, reverse=True):
        # A whole definition takes its trailing blank line with it.
        whole = sdl[end : end + 2] == "\n\n" and sdl[start - 1 : start] in ("", "\n")
        sdl = sdl[:start] + sdl[end + 2 * whole :]
    return sdl.rstrip("\n")  # the last definitions were federation's


def _span(node: Node) -> tuple[int, int]:
    assert node.loc is not None  # parse() keeps locations
    return node.loc.start, node.loc.end
