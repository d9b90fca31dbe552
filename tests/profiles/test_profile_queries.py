"""Reading profiles, settings and links over GraphQL: what each viewer gets, and what it costs."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from db.engines import Database
from graph import ids
from tests.authkit import account, call, codes
from tests.conftest import StatementCounter

SERVERS = pytest.mark.parametrize("territory", ["dk", "se"])  # main server, second server

ME = """
{ me { profile { displayName languages { language level } socialLinks { id platform } }
       privacy { preset fields { field visibility overridden } }
       notificationPreferences { settings { event email push } quietHours { start } }
       socialGroups { kind name } } }"""
UPDATE = "mutation($i: UpdateProfileInput!) { updateProfile(input: $i) { profile { id } } }"
ADD_LINK = """
mutation($i: AddSocialLinkInput!) { addSocialLink(input: $i) { socialLink { id url } } }"""
SET_FIELD = """
mutation($f: ProfileField!, $v: Visibility) {
  setFieldVisibility(input: {field: $f, visibility: $v}) { privacy { preset } }
}"""
SET_PRESET = """
mutation($v: Visibility!, $g: [ID!]) {
  setProfileVisibility(input: {visibility: $v, groups: $g}) { privacy { preset } }
}"""
SET_LANGUAGE = """
mutation { setLanguageProficiency(input: {language: "da", level: A2}) { languages { language } } }
"""
CREATE_GROUP = """
mutation { createSocialGroup(input: {name: "Pals"}) { socialGroup { id } } }"""
ADD_TO_GROUP = """
mutation($g: ID!, $u: ID!) { addToSocialGroup(input: {groupId: $g, userId: $u}) { wasMember } }"""
LINK_NODE = """
query($id: ID!) { node(id: $id) { __typename id ... on SocialLink { platform url label } } }"""
LINK_NODES = "query($ids: [ID!]!) { nodes(ids: $ids) { id } }"
GITHUB = {"platform": "github", "url": "https://github.com/someone"}


def ok(body: dict[str, Any]) -> dict[str, Any]:
    assert "errors" not in body, body
    data: dict[str, Any] = body["data"]
    return data


def _profile_id(person: dict[str, Any]) -> str:
    key = ids.decode(person["user"]["id"])
    return ids.encode("Profile", key.territory_id, key.key)


async def test_own_settings_start_from_the_defaults(
    auth_client: httpx.AsyncClient, db: Database
) -> None:
    me = ok(
        await call(auth_client, ME, token=(await account(auth_client, db, "se"))["accessToken"])
    )
    mine = me["me"]
    assert mine["privacy"]["preset"] == "TERRITORY"
    birthdate = next(f for f in mine["privacy"]["fields"] if f["field"] == "BIRTHDATE")
    assert birthdate == {"field": "BIRTHDATE", "visibility": "ONLY_ME", "overridden": True}
    assert [g["kind"] for g in mine["socialGroups"]] == ["FAMILY", "FRIENDS"]
    assert mine["notificationPreferences"]["quietHours"] is None
    assert mine["profile"]["languages"] == []


# --- node(id:) on a SocialLink: the owner's settings for socialLinks decide


async def _owner_with_link(
    client: httpx.AsyncClient, db: Database, territory: str
) -> tuple[dict[str, Any], dict[str, Any]]:
    owner = await account(client, db, territory)
    body = await call(client, ADD_LINK, {"i": GITHUB}, owner["accessToken"])
    return owner, ok(body)["addSocialLink"]["socialLink"]


@SERVERS
async def test_the_owner_refetches_their_link(
    auth_client: httpx.AsyncClient, db: Database, territory: str
) -> None:
    owner, link = await _owner_with_link(auth_client, db, territory)
    body = await call(auth_client, LINK_NODE, {"id": link["id"]}, owner["accessToken"])
    assert ok(body)["node"] == {
        "__typename": "SocialLink",
        "id": link["id"],
        "platform": "github",
        "url": GITHUB["url"],
        "label": None,
    }


@SERVERS
async def test_a_stranger_the_settings_exclude_gets_not_found_for_a_link(
    auth_client: httpx.AsyncClient, db: Database, territory: str
) -> None:
    """The default preset (TERRITORY) shows links to the owner's territory, nobody else."""
    _, link = await _owner_with_link(auth_client, db, territory)
    elsewhere = await account(auth_client, db, "no")
    for token in (elsewhere["accessToken"], None):
        assert codes(await call(auth_client, LINK_NODE, {"id": link["id"]}, token)) == ["NOT_FOUND"]
        nodes = ok(await call(auth_client, LINK_NODES, {"ids": [link["id"]]}, token))
        assert nodes["nodes"] == [None]
    neighbour = await account(auth_client, db, territory)
    seen = ok(await call(auth_client, LINK_NODE, {"id": link["id"]}, neighbour["accessToken"]))
    assert seen["node"]["id"] == link["id"]


@SERVERS
async def test_a_link_follows_the_social_links_field_setting(
    auth_client: httpx.AsyncClient, db: Database, territory: str
) -> None:
    owner, link = await _owner_with_link(auth_client, db, territory)
    token = owner["accessToken"]
    neighbour = await account(auth_client, db, territory)
    ok(await call(auth_client, SET_FIELD, {"f": "SOCIAL_LINKS", "v": "ONLY_ME"}, token))
    hidden = await call(auth_client, LINK_NODE, {"id": link["id"]}, neighbour["accessToken"])
    assert codes(hidden) == ["NOT_FOUND"]
    assert ok(await call(auth_client, LINK_NODE, {"id": link["id"]}, token))["node"]
    ok(await call(auth_client, SET_FIELD, {"f": "SOCIAL_LINKS", "v": "PUBLIC"}, token))
    anonymous = ok(await call(auth_client, LINK_NODE, {"id": link["id"]}))
    assert anonymous["node"]["url"] == GITHUB["url"]


async def test_a_removed_link_is_not_found(auth_client: httpx.AsyncClient, db: Database) -> None:
    owner, link = await _owner_with_link(auth_client, db, "dk")
    removed = await call(
        auth_client,
        "mutation($id: ID!) { removeSocialLink(input: {id: $id}) { deletedId } }",
        {"id": link["id"]},
        owner["accessToken"],
    )
    assert ok(removed)["removeSocialLink"]["deletedId"] == link["id"]
    body = await call(auth_client, LINK_NODE, {"id": link["id"]}, owner["accessToken"])
    assert codes(body) == ["NOT_FOUND"]


async def test_a_link_id_in_another_territory_finds_nothing(
    auth_client: httpx.AsyncClient, db: Database
) -> None:
    """The territory is part of the id: the same key under another territory is no link."""
    owner, link = await _owner_with_link(auth_client, db, "dk")
    ok(
        await call(
            auth_client, SET_FIELD, {"f": "SOCIAL_LINKS", "v": "PUBLIC"}, owner["accessToken"]
        )
    )
    forged = ids.encode("SocialLink", "se", ids.decode(link["id"]).key)
    assert codes(await call(auth_client, LINK_NODE, {"id": forged})) == ["NOT_FOUND"]


# --- statement counts


async def test_profiles_cost_statements_independent_of_n(
    auth_client: httpx.AsyncClient, db: Database, statements: StatementCounter
) -> None:
    """N profiles with languages and links, seen by one viewer: the same statements for any N."""
    viewer = await account(auth_client, db, "dk")
    people: list[dict[str, Any]] = []
    query = """query($ids: [ID!]!) { nodes(ids: $ids) { ... on Profile {
        displayName bio languages { language } socialLinks { url } user { username } } } }"""
    counts = []
    for n in (2, 8):
        while len(people) < n:
            territory = "dk" if len(people) % 2 == 0 else "se"
            person = await account(auth_client, db, territory)
            token = person["accessToken"]
            ok(await call(auth_client, UPDATE, {"i": {"bio": "hello"}}, token))
            ok(await call(auth_client, SET_LANGUAGE, token=token))
            ok(await call(auth_client, SET_PRESET, {"v": "ALL_TERRITORIES"}, token))
            people.append(person)
        statements.statements.clear()
        ids_ = [_profile_id(p) for p in people]
        body = ok(await call(auth_client, query, {"ids": ids_}, viewer["accessToken"]))
        assert len(body["nodes"]) == n
        assert all(node["bio"] == "hello" and node["languages"] for node in body["nodes"])
        counts.append(statements.count)
    assert counts[0] == counts[1], counts
    # Per territory: profiles+relations, languages, links; plus the registry lookup.
    assert counts[0] <= 1 + 2 * 3, statements.statements


async def test_group_grants_cost_statements_independent_of_n(
    auth_client: httpx.AsyncClient, db: Database, statements: StatementCounter
) -> None:
    """N owners each share an ONLY_ME profile with a custom group holding the viewer: the
    grants ride on the one profile statement per territory, whatever N."""
    viewer = await account(auth_client, db, "no")
    people: list[dict[str, Any]] = []
    query = """query($ids: [ID!]!) { nodes(ids: $ids) { ... on Profile {
        displayName bio languages { language } socialLinks { url } } } }"""
    counts = []
    for n in (2, 8):
        while len(people) < n:
            territory = "dk" if len(people) % 2 == 0 else "se"
            person = await account(auth_client, db, territory)
            token = person["accessToken"]
            ok(await call(auth_client, UPDATE, {"i": {"bio": "shared"}}, token))
            group = ok(await call(auth_client, CREATE_GROUP, token=token))
            group_id = group["createSocialGroup"]["socialGroup"]["id"]
            added = {"g": group_id, "u": viewer["user"]["id"]}
            ok(await call(auth_client, ADD_TO_GROUP, added, token))
            ok(await call(auth_client, SET_PRESET, {"v": "ONLY_ME", "g": [group_id]}, token))
            people.append(person)
        statements.statements.clear()
        ids_ = [_profile_id(p) for p in people]
        body = ok(await call(auth_client, query, {"ids": ids_}, viewer["accessToken"]))
        assert [node["bio"] for node in body["nodes"]] == ["shared"] * n
        counts.append(statements.count)
    assert counts[0] == counts[1], counts
    # Per territory: profiles+relations+grants, languages, links; plus the registry lookup.
    assert counts[0] <= 1 + 2 * 3, statements.statements
    # A stranger of the same territories sees none of them.
    stranger = await account(auth_client, db, "dk")
    body = ok(await call(auth_client, query, {"ids": ids_}, stranger["accessToken"]))
    assert body["nodes"] == [None] * len(ids_)


async def test_links_by_id_cost_statements_independent_of_n(
    auth_client: httpx.AsyncClient, db: Database, statements: StatementCounter
) -> None:
    """N links of N owners refetched at once: one link batch and one profile batch per
    territory, whatever N."""
    viewer = await account(auth_client, db, "dk")
    links: list[str] = []
    counts = []
    for n in (2, 6):
        while len(links) < n:
            territory = "dk" if len(links) % 2 == 0 else "se"
            owner, link = await _owner_with_link(auth_client, db, territory)
            ok(await call(auth_client, SET_PRESET, {"v": "PUBLIC"}, owner["accessToken"]))
            links.append(link["id"])
        statements.statements.clear()
        body = ok(await call(auth_client, LINK_NODES, {"ids": links}, viewer["accessToken"]))
        assert [node["id"] for node in body["nodes"]] == links
        counts.append(statements.count)
    assert counts[0] == counts[1], counts
    # Per territory: links by id, then the owners' profiles; plus the registry lookup.
    assert counts[0] <= 1 + 2 * 2, statements.statements
