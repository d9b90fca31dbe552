"""Regressions found in the identity/access/privacy review: each failed before its fix.

The identity and access ones live in tests/accounts, tests/invitations and tests/roles now; what
is left here belongs to the profiles and communities areas.
"""

from __future__ import annotations

import uuid

import httpx
import pytest

from db.engines import Database
from domain.errors import BadUserInput
from domain.profiles import validate_social_link
from tests.authkit import account, call, codes

CREATE_COMMUNITY = """
mutation($i: CreateCommunityInput!) { createCommunity(input: $i) { id } }"""


@pytest.mark.parametrize(
    ("platform", "url"),
    [
        ("custom", "https://127.1/"),
        ("custom", "https://0x7f.1/"),
        ("custom", "https://10.0.0.010/"),
        ("custom", "https://0177.0.0.1/"),
        ("mastodon", "https://192.168.1/@me"),
        ("mastodon", "https://1.2.3.0x4/@me"),
    ],
)
def test_links_refuse_every_ipv4_spelling_a_browser_accepts(platform: str, url: str) -> None:
    with pytest.raises(BadUserInput):
        validate_social_link(platform, url, "label")


def test_links_still_accept_names_with_digits() -> None:
    assert validate_social_link("custom", "https://1password.com/x", "pw")[1]
    assert validate_social_link("mastodon", "https://mastodon.0x.social/@me", None)[1]


async def test_invite_only_communities_do_not_reveal_themselves(
    auth_client: httpx.AsyncClient, db: Database
) -> None:
    """Non-members got FORBIDDEN for an invite-only community, NOT_FOUND for a missing one."""
    from graph import ids

    manager = await account(auth_client, db, "dk", role="territory_manager")
    alice = await account(auth_client, db, "dk")
    bob = await account(auth_client, db, "dk")
    slug = f"closed-{uuid.uuid4().hex[:8]}"
    closed = await call(
        auth_client,
        CREATE_COMMUNITY,
        {"i": {"territory": "dk", "slug": slug, "name": "Closed", "visibility": "INVITE_ONLY"}},
        manager["accessToken"],
    )
    closed_id = closed["data"]["createCommunity"]["id"]
    missing_id = ids.encode("Community", "dk", str(uuid.uuid4()))
    bob_id = bob["user"]["id"]
    join = "mutation($id: ID!) { joinCommunity(id: $id) { role } }"
    add = "mutation($c: ID!, $u: ID!) { addCommunityMember(communityId: $c, userId: $u) { role } }"
    remove = "mutation($c: ID!, $u: ID!) { removeCommunityMember(communityId: $c, userId: $u) }"
    role = """mutation($c: ID!, $u: ID!) {
      setCommunityMemberRole(communityId: $c, userId: $u, role: ADMIN) { role } }"""
    for community in (closed_id, missing_id):
        t = alice["accessToken"]
        assert codes(await call(auth_client, join, {"id": community}, t)) == ["NOT_FOUND"]
        for mutation in (add, remove, role):
            assert codes(await call(auth_client, mutation, {"c": community, "u": bob_id}, t)) == [
                "NOT_FOUND"
            ]
    # A member who may not manage still learns it exists (they see it in their communities).
    ok = await call(
        auth_client, add, {"c": closed_id, "u": alice["user"]["id"]}, manager["accessToken"]
    )
    assert "errors" not in ok, ok
    t = alice["accessToken"]
    assert codes(await call(auth_client, add, {"c": closed_id, "u": bob_id}, t)) == ["FORBIDDEN"]
