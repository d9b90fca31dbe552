"""Every type with an `id` is a Node that `node(id:)` resolves: one registry, walked here."""

from __future__ import annotations

from typing import Any

import httpx
from graphql import GraphQLObjectType

from db.engines import Database
from graph import ids
from graph.schema import schema
from resolvers.node import RESOLVERS
from tests.authkit import account, award_badge, call, define_badge
from tests.files import upload, uploaded
from tests.forums.forumkit import new_comment, new_forum, new_topic
from tests.notifications.conftest import envelope_of, offline_notifier
from tests.notifications.test_notification_store import granted

NODE = "query($id: ID!) { node(id: $id) { id __typename } }"


def _node_types() -> set[str]:
    return {
        name
        for name, t in schema._schema.type_map.items()
        if isinstance(t, GraphQLObjectType) and any(i.name == "Node" for i in t.interfaces)
    }


# Live events (graph/types/events.py) have an id clients de-duplicate on, but are delivered once
# and never stored for refetching: node(id:) has nothing to read them back from.
DELIVERED_ONLY = {"CommunityActivity", "ForumTopicEvent"}


def _types_with_an_id() -> set[str]:
    return {
        name
        for name, t in schema._schema.type_map.items()
        if isinstance(t, GraphQLObjectType)
        and not name.startswith("__")
        and "id" in t.fields
        and name not in ("Query", "Mutation", "Subscription")
        and name not in DELIVERED_ONLY
    }


def test_every_type_with_an_id_is_a_node_in_the_registry() -> None:
    assert _types_with_an_id() == _node_types()
    assert set(RESOLVERS) == _node_types()


def _data(body: dict[str, Any]) -> dict[str, Any]:
    assert "errors" not in body, body
    data: dict[str, Any] = body["data"]
    return data


async def test_node_round_trips_every_node_type(
    auth_client: httpx.AsyncClient, db: Database
) -> None:
    """One object of each Node type, refetched by its id by someone allowed to see it."""
    manager = await account(auth_client, db, "se", role="territory_manager")
    owner = await account(auth_client, db, "se")
    token, boss = owner["accessToken"], manager["accessToken"]
    link = _data(
        await call(
            auth_client,
            'mutation { addSocialLink(input: {platform: "custom", url: '
            '"https://example.org/me", label: "Me"}) { socialLink { id } } }',
            token=token,
        )
    )["addSocialLink"]["socialLink"]["id"]
    group = _data(
        await call(
            auth_client,
            'mutation { createSocialGroup(input: {name: "Choir"}) { socialGroup { id } } }',
            token=token,
        )
    )["createSocialGroup"]["socialGroup"]["id"]
    created = _data(
        await call(
            auth_client,
            'mutation { createInvitation(input: {territory: "se"}) { invitation { id } } }',
            token=boss,
        )
    )
    invitation = created["createInvitation"]["invitation"]["id"]
    me = _data(await call(auth_client, "{ me { id profile { id } } }", token=token))["me"]
    file = uploaded(await upload(auth_client, token, b"a note\n"))["file"]["id"]
    territory = _data(await call(auth_client, '{ territory(id: "se") { id } }'))["territory"]
    community = _data(
        await call(auth_client, '{ communities(territory: "se", first: 1) { nodes { id } } }')
    )["communities"]["nodes"][0]["id"]
    await offline_notifier(db).apply(envelope_of(granted(owner, "se")))
    note = _data(await call(auth_client, "{ me { notifications { nodes { id } } } }", token=token))
    forum = await new_forum(auth_client, boss, "se")
    topic = await new_topic(auth_client, token, forum)
    comment = await new_comment(auth_client, token, topic)
    pinned = _data(
        await call(
            auth_client,
            "mutation($t: ID!) { pinForumTopic(input: {topicId: $t}) { entry { id } } }",
            {"t": topic},
            boss,
        )
    )
    entry = pinned["pinForumTopic"]["entry"]["id"]
    badge = await define_badge(db, "se")
    award = await award_badge(db, owner, badge)
    samples = {
        "Notification": (note["me"]["notifications"]["nodes"][0]["id"], token),
        "Badge": (ids.encode("Badge", "se", str(badge.id)), token),
        "BadgeAward": (ids.encode("BadgeAward", "se", str(award.id)), token),
        "Territory": (territory["id"], None),
        "Community": (community, None),
        "User": (me["id"], token),
        "Profile": (me["profile"]["id"], token),
        "SocialLink": (link, token),
        "SocialGroup": (group, token),
        "Invitation": (invitation, boss),
        "File": (file, token),
        "Forum": (forum, token),
        "ForumTopic": (topic, token),
        "ForumComment": (comment, token),
        "ForumModerationEntry": (entry, boss),
    }
    assert set(samples) == _node_types(), "a new Node type needs a sample here"
    for type_name, (node_id, viewer) in samples.items():
        found = _data(await call(auth_client, NODE, {"id": node_id}, viewer))["node"]
        assert found == {"id": node_id, "__typename": type_name}
