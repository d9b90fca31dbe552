"""Relay's ``node``/``nodes``: decode, route to the id's territory, read through its loaders.

Every type that can be refetched registers here; the per-type resolver applies the same visibility
rules as every other path to that object, so a node lookup never shows more than a list would.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Annotated

import strawberry

from domain.errors import BadUserInput, NotFound, input_field
from domain.territories import validate_territory_id
from graph import ids
from graph.context import Info
from graph.permissions import Public
from graph.types.communities import community_by_id
from graph.types.profiles import profile_view
from graph.types.relay import Node
from graph.types.territories import resolve_territory
from resolvers.accounts import user_node
from resolvers.badges import award_node, badge_node
from resolvers.files import file_node
from resolvers.forums import comment_node, forum_node, log_entry_node, topic_node
from resolvers.invitations import invitation_node
from resolvers.notifications import notification_node
from resolvers.profiles import social_link_node
from resolvers.social_groups import social_group_node

MAX_NODES = 100

NodeResolver = Callable[[Info, ids.NodeKey], Awaitable[Node | None]]


async def _territory(info: Info, key: ids.NodeKey) -> Node | None:
    if validate_territory_id(key.key) != key.territory_id:
        raise BadUserInput("Malformed node id.")
    return await resolve_territory(info, key.territory_id)


async def _community(info: Info, key: ids.NodeKey) -> Node | None:
    return await community_by_id(info, key.territory_id, ids.parse_uuid(key.key))


async def _profile(info: Info, key: ids.NodeKey) -> Node | None:
    # Anyone: the profile's privacy settings decide, per field, what this caller sees.
    return await profile_view(info, key.territory_id, ids.parse_uuid(key.key))


RESOLVERS: dict[str, NodeResolver] = {
    "Territory": _territory,
    "Community": _community,
    "User": user_node,
    "Invitation": invitation_node,
    "Profile": _profile,
    "SocialLink": social_link_node,
    "SocialGroup": social_group_node,
    "Notification": notification_node,
    "Forum": forum_node,
    "ForumTopic": topic_node,
    "ForumComment": comment_node,
    "ForumModerationEntry": log_entry_node,
    "Badge": badge_node,
    "BadgeAward": award_node,
    "File": file_node,
}


def _parse(value: str) -> tuple[NodeResolver, ids.NodeKey]:
    key = ids.decode(value)
    resolver = RESOLVERS.get(key.type_name)
    if resolver is None:
        raise BadUserInput("Malformed node id.")
    return resolver, key


@strawberry.type
class NodeQueries:
    @strawberry.field(
        description="Refetch any object by its global id; NOT_FOUND if not visible.",
        permission_classes=[Public],
    )
    async def node(
        self,
        info: Info,
        id: Annotated[
            strawberry.ID,
            strawberry.argument(description="A global id, as any object's `id` field gives it."),
        ],
    ) -> Node | None:
        with input_field("id"):  # a malformed id, or a key its type cannot have
            resolver, key = _parse(id)
            found = await resolver(info, key)
        if found is None:
            raise NotFound("No such node.")
        return found

    @strawberry.field(
        description=f"Refetch up to {MAX_NODES} objects; null for each id that is not visible.",
        permission_classes=[Public],
    )
    async def nodes(
        self,
        info: Info,
        ids: Annotated[
            list[strawberry.ID],
            strawberry.argument(
                description=f"Up to {MAX_NODES} global ids (BAD_USER_INPUT beyond); the answer "
                "has one entry per id, in the same order."
            ),
        ],
    ) -> list[Node | None]:
        if len(ids) > MAX_NODES:
            raise BadUserInput(f"At most {MAX_NODES} ids per call.", field="ids")
        with input_field("ids"):
            parsed = [_parse(value) for value in ids]
            return list(await asyncio.gather(*(resolver(info, key) for resolver, key in parsed)))
