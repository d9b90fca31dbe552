"""Apollo Federation 2: which types are entities, and the keys a gateway fetches them by.

Every Node type is an entity keyed by its global id (``@key(fields: "id")``): the id already names
the type, the territory and the row, so ``_entities`` routes it exactly as ``node(id:)`` does.
``Territory`` has a second key, its code, because other subgraphs know territories by code (it is
what every territory-scoped argument takes). ``PageInfo`` is ``@shareable``: every subgraph with
connections declares the same value type. Nothing is ``@inaccessible``: the schema holds nothing
that the gateway's clients may not ask for (the authorization is per field, as here).

The keys are attached here, to the types' Strawberry definitions, rather than in each type's
decorator so that the rule "every Node is an entity" lives in one place: a Node type missing from
``ENTITY_TYPES`` fails tests/schema/test_federation.py.
"""

from __future__ import annotations

from typing import Annotated, Final

import strawberry
from strawberry.federation.schema_directives import Key, Shareable
from strawberry.federation.types import FieldSet

from graph.types.accounts import User
from graph.types.badges import Badge, BadgeAward
from graph.types.communities import Community
from graph.types.files import File
from graph.types.forums import Forum, ForumComment, ForumModerationEntry, ForumTopic
from graph.types.invitations import Invitation
from graph.types.notifications import Notification
from graph.types.profiles import Profile, SocialLink
from graph.types.relay import PageInfo
from graph.types.social_groups import SocialGroup
from graph.types.territories import Territory

FEDERATION_VERSION: Final = "2.3"

ENTITY_TYPES: tuple[type, ...] = (
    Territory,
    Community,
    User,
    Profile,
    SocialLink,
    SocialGroup,
    Invitation,
    Notification,
    Forum,
    ForumTopic,
    ForumComment,
    ForumModerationEntry,
    Badge,
    BadgeAward,
    File,
)

Entity = Annotated[
    Territory
    | Community
    | User
    | Profile
    | SocialLink
    | SocialGroup
    | Invitation
    | Notification
    | Forum
    | ForumTopic
    | ForumComment
    | ForumModerationEntry
    | Badge
    | BadgeAward
    | File,
    strawberry.union(
        "_Entity", description="Every type a gateway can fetch by key through `_entities`."
    ),
]


def _add(cls: type, directive: object) -> None:
    """Attach ``directive`` to ``cls``'s definition once (schemas are built more than once)."""
    definition = cls.__strawberry_definition__  # type: ignore[attr-defined]
    if directive not in definition.directives:
        definition.directives = (*definition.directives, directive)


for _entity in ENTITY_TYPES:
    _add(_entity, Key(fields=FieldSet("id")))
_add(Territory, Key(fields=FieldSet("code")))
_add(PageInfo, Shareable())
