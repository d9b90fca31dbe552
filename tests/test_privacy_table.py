"""Privacy, table-driven: for every preset and field, what each kind of viewer sees.

One owner in `dk` with every profile field filled in. Viewers: anonymous (a stranger), an
account of `dk` sharing no community, an account of `dk` in a community with the owner, an
account of `se` (another territory on another database server), a friend (in `no`), a family
member (in `fn_sami`, on the second server) and the owner. The expected table below is written
out by hand, not computed with the code under test.
"""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest

from db.engines import Database
from tests.authkit import account, call, codes

OWNER, FAMILY, FRIEND, COMMUNITY, TERRITORY, OTHER, ANONYMOUS = (
    "owner",
    "family",
    "friend",
    "community",
    "same_territory",
    "other_territory",
    "anonymous",
)
VIEWERS = [OWNER, FAMILY, FRIEND, COMMUNITY, TERRITORY, OTHER, ANONYMOUS]

# preset -> viewers who see a field that follows the preset.
SEES: dict[str, set[str]] = {
    "ONLY_ME": {OWNER},
    "FAMILY": {OWNER, FAMILY},
    "FRIENDS": {OWNER, FAMILY, FRIEND},
    "COMMUNITY": {OWNER, FAMILY, FRIEND, COMMUNITY},
    "TERRITORY": {OWNER, FAMILY, FRIEND, COMMUNITY, TERRITORY},
    "ALL_TERRITORIES": {OWNER, FAMILY, FRIEND, COMMUNITY, TERRITORY, OTHER},
    "PUBLIC": set(VIEWERS),
}

# ProfileField enum value -> the Profile field that shows it.
FIELDS = {
    "DISPLAY_NAME": "displayName",
    "BIO": "bio",
    "LOCATION": "location",
    "BIRTHDATE": "birthdate",
    "AVATAR": "avatar",
    "PRIMARY_LANGUAGE": "primaryLanguage",
    "LANGUAGES": "languages",
    "PREFERRED_TRANSLATION_LANGUAGE": "preferredTranslationLanguage",
    "SOCIAL_LINKS": "socialLinks",
}

PROFILE = """
query($id: ID!) {
  profile(id: $id) {
    id territory displayName bio location birthdate avatar primaryLanguage
    preferredTranslationLanguage languages { language level } socialLinks { platform url }
  }
}"""
SET_PRESET = "mutation($v: Visibility!) { setProfileVisibility(visibility: $v) { preset } }"
SET_FIELD = """
mutation($f: ProfileField!, $v: Visibility) {
  setFieldVisibility(field: $f, visibility: $v) { preset fields { field visibility overridden } }
}"""
GROUPS = "{ me { socialGroups { id kind name } } }"
ADD_TO_GROUP = "mutation($g: ID!, $u: ID!) { addToSocialGroup(groupId: $g, userId: $u) }"
CREATE_COMMUNITY = """
mutation($i: CreateCommunityInput!) { createCommunity(input: $i) { id slug visibility } }"""
JOIN = "mutation($id: ID!) { joinCommunity(id: $id) { role community { slug } } }"


def ok(body: dict[str, Any]) -> dict[str, Any]:
    assert "errors" not in body, body
    data: dict[str, Any] = body["data"]
    return data


@pytest.fixture(scope="module")
async def cast(auth_client: httpx.AsyncClient, db: Database) -> dict[str, Any]:
    """The owner with a full profile and one account per kind of viewer."""
    people = {
        OWNER: await account(auth_client, db, "dk"),
        FAMILY: await account(auth_client, db, "fn_sami"),
        FRIEND: await account(auth_client, db, "no"),
        COMMUNITY: await account(auth_client, db, "dk"),
        TERRITORY: await account(auth_client, db, "dk"),
        OTHER: await account(auth_client, db, "se"),
    }
    owner = people[OWNER]["accessToken"]
    ok(
        await call(
            auth_client,
            """mutation($i: UpdateProfileInput!) { updateProfile(input: $i) { displayName } }""",
            {
                "i": {
                    "displayName": "Owner Person",
                    "bio": "Grows kale.",
                    "location": "Aarhus",
                    "birthdate": "1990-05-17",
                    "avatar": "file:3f2b8c1e-1111-4a2b-9c3d-0123456789ab",
                    "primaryLanguage": "da",
                    "preferredTranslationLanguage": "en-GB",
                }
            },
            owner,
        )
    )
    ok(
        await call(
            auth_client,
            'mutation { setLanguageProficiency(language: "se", level: B1) { language } }',
            token=owner,
        )
    )
    ok(
        await call(
            auth_client,
            "mutation($i: SocialLinkInput!) { addSocialLink(input: $i) { id } }",
            {"i": {"platform": "mastodon", "url": "https://mastodon.social/@owner"}},
            owner,
        )
    )
    groups = {
        g["kind"]: g["id"]
        for g in ok(await call(auth_client, GROUPS, token=owner))["me"]["socialGroups"]
    }
    for kind, who in (("FAMILY", FAMILY), ("FRIENDS", FRIEND)):
        added = await call(
            auth_client, ADD_TO_GROUP, {"g": groups[kind], "u": people[who]["user"]["id"]}, owner
        )
        assert ok(added) == {"addToSocialGroup": True}
    manager = await account(auth_client, db, "dk", role="territory_manager")
    community = ok(
        await call(
            auth_client,
            CREATE_COMMUNITY,
            {"i": {"territory": "dk", "slug": f"privacy-{uuid.uuid4().hex[:8]}", "name": "P"}},
            manager["accessToken"],
        )
    )["createCommunity"]
    for who in (OWNER, COMMUNITY):
        ok(await call(auth_client, JOIN, {"id": community["id"]}, people[who]["accessToken"]))
    return {"people": people, "community": community["id"], "manager": manager}


def token_of(cast: dict[str, Any], viewer: str) -> str | None:
    return None if viewer == ANONYMOUS else cast["people"][viewer]["accessToken"]


async def seen(auth_client: httpx.AsyncClient, cast: dict[str, Any], viewer: str) -> dict[str, Any]:
    """Which fields the viewer gets a value for (a null profile shows no field at all)."""
    owner_id = cast["people"][OWNER]["user"]["id"]
    body = await call(auth_client, PROFILE, {"id": owner_id}, token_of(cast, viewer))
    profile = ok(body)["profile"]
    return {} if profile is None else profile


async def reset(auth_client: httpx.AsyncClient, cast: dict[str, Any], preset: str) -> None:
    owner = cast["people"][OWNER]["accessToken"]
    ok(await call(auth_client, SET_PRESET, {"v": preset}, owner))
    for field in FIELDS:
        settings = ok(await call(auth_client, SET_FIELD, {"f": field, "v": None}, owner))
    assert not any(f["overridden"] for f in settings["setFieldVisibility"]["fields"])


@pytest.mark.parametrize("preset", list(SEES))
async def test_preset_by_field_by_viewer(
    auth_client: httpx.AsyncClient, cast: dict[str, Any], preset: str
) -> None:
    await reset(auth_client, cast, preset)
    table = {}
    for viewer in VIEWERS:
        profile = await seen(auth_client, cast, viewer)
        table[viewer] = {field: profile.get(key) is not None for field, key in FIELDS.items()}
    expected = {viewer: dict.fromkeys(FIELDS, viewer in SEES[preset]) for viewer in VIEWERS}
    assert table == expected


# (preset, {field: own visibility}) -> the fields each viewer sees.
OVERRIDES = [
    (
        "PUBLIC",
        {"BIRTHDATE": "FRIENDS", "BIO": "ONLY_ME", "SOCIAL_LINKS": "COMMUNITY"},
        {
            OWNER: set(FIELDS),
            FAMILY: set(FIELDS) - {"BIO"},
            FRIEND: set(FIELDS) - {"BIO"},
            COMMUNITY: set(FIELDS) - {"BIO", "BIRTHDATE"},
            TERRITORY: set(FIELDS) - {"BIO", "BIRTHDATE", "SOCIAL_LINKS"},
            OTHER: set(FIELDS) - {"BIO", "BIRTHDATE", "SOCIAL_LINKS"},
            ANONYMOUS: set(FIELDS) - {"BIO", "BIRTHDATE", "SOCIAL_LINKS"},
        },
    ),
    (
        "ONLY_ME",
        {"DISPLAY_NAME": "PUBLIC", "LANGUAGES": "ALL_TERRITORIES", "LOCATION": "FAMILY"},
        {
            OWNER: set(FIELDS),
            FAMILY: {"DISPLAY_NAME", "LANGUAGES", "LOCATION"},
            FRIEND: {"DISPLAY_NAME", "LANGUAGES"},
            COMMUNITY: {"DISPLAY_NAME", "LANGUAGES"},
            TERRITORY: {"DISPLAY_NAME", "LANGUAGES"},
            OTHER: {"DISPLAY_NAME", "LANGUAGES"},
            ANONYMOUS: {"DISPLAY_NAME"},
        },
    ),
]


@pytest.mark.parametrize(("preset", "overrides", "expected"), OVERRIDES)
async def test_field_settings_override_the_preset(
    auth_client: httpx.AsyncClient,
    cast: dict[str, Any],
    preset: str,
    overrides: dict[str, str],
    expected: dict[str, set[str]],
) -> None:
    await reset(auth_client, cast, preset)
    owner = cast["people"][OWNER]["accessToken"]
    for field, visibility in overrides.items():
        ok(await call(auth_client, SET_FIELD, {"f": field, "v": visibility}, owner))
    for viewer in VIEWERS:
        profile = await seen(auth_client, cast, viewer)
        shown = {field for field, key in FIELDS.items() if profile.get(key) is not None}
        assert shown == expected[viewer], viewer


async def test_every_path_enforces_the_same_rules(
    auth_client: httpx.AsyncClient, cast: dict[str, Any]
) -> None:
    """node, nodes, User.profile, community members, social group members: one decision."""
    await reset(auth_client, cast, "FRIENDS")
    people = cast["people"]
    owner_user = people[OWNER]["user"]["id"]
    profile_id = ok(await call(auth_client, PROFILE, {"id": owner_user}, token_of(cast, OWNER)))[
        "profile"
    ]["id"]
    node = "query($id: ID!) { node(id: $id) { ... on Profile { displayName bio } } }"
    nodes = "query($ids: [ID!]!) { nodes(ids: $ids) { ... on Profile { displayName } } }"
    members = """
    query($id: ID!) {
      node(id: $id) { ... on Community { members(first: 50) { nodes { role profile {
        id displayName bio } } } } }
    }"""
    for viewer, allowed in ((FRIEND, True), (TERRITORY, False), (COMMUNITY, False), (OTHER, False)):
        token = token_of(cast, viewer)
        body = await call(auth_client, node, {"id": profile_id}, token)
        if allowed:
            assert ok(body)["node"] == {"displayName": "Owner Person", "bio": "Grows kale."}
        else:
            assert codes(body) == ["NOT_FOUND"]
        listed = ok(await call(auth_client, nodes, {"ids": [profile_id, profile_id]}, token))
        expected = [{"displayName": "Owner Person"}] * 2 if allowed else [None, None]
        assert listed["nodes"] == expected
    # The community member lists the owner, but the owner's profile stays hidden from them.
    listing = ok(
        await call(auth_client, members, {"id": cast["community"]}, token_of(cast, COMMUNITY))
    )["node"]["members"]["nodes"]
    assert len(listing) == 3  # the creating manager (admin), the owner, the viewer
    assert sum(m["profile"] is None for m in listing) == 1
    assert profile_id not in {m["profile"]["id"] for m in listing if m["profile"]}
    assert (
        ok(await call(auth_client, members, {"id": cast["community"]}, token_of(cast, FRIEND)))[
            "node"
        ]["members"]
        is None
    )  # the friend is an account of `no`: no member list of a dk community
    # Another territory's account gets no member list at all.
    other = ok(await call(auth_client, members, {"id": cast["community"]}, token_of(cast, OTHER)))
    assert other["node"]["members"] is None
    # A manager reads the account (User) but the profile only as far as the owner allows.
    manager = cast["manager"]["accessToken"]
    user_q = (
        "query($id: ID!) { node(id: $id) { ... on User { username profile { bio } "
        "privacy { preset } } } }"
    )
    as_manager = ok(await call(auth_client, user_q, {"id": owner_user}, manager))["node"]
    assert as_manager["username"] == people[OWNER]["user"]["username"]
    assert as_manager["profile"] is None
    assert as_manager["privacy"] is None
    # The owner sees everything, settings included.
    me = ok(await call(auth_client, user_q, {"id": owner_user}, token_of(cast, OWNER)))["node"]
    assert me["profile"] == {"bio": "Grows kale."}
    assert me["privacy"] == {"preset": "FRIENDS"}
    # Accounts stay private to everyone else, whatever the profile shows.
    for viewer in (FRIEND, TERRITORY, OTHER):
        body = await call(auth_client, user_q, {"id": owner_user}, token_of(cast, viewer))
        assert codes(body) == ["NOT_FOUND"]


async def test_friend_sees_through_their_own_group_view(
    auth_client: httpx.AsyncClient, cast: dict[str, Any]
) -> None:
    """The owner lists their groups; each member's profile follows THAT member's settings."""
    await reset(auth_client, cast, "FRIENDS")
    friend = cast["people"][FRIEND]
    ok(await call(auth_client, SET_PRESET, {"v": "ONLY_ME"}, friend["accessToken"]))
    ok(
        await call(
            auth_client,
            SET_FIELD,
            {"f": "DISPLAY_NAME", "v": "ALL_TERRITORIES"},
            friend["accessToken"],
        )
    )
    query = (
        "{ me { socialGroups { kind members { userId profile { territory displayName bio } } } } }"
    )
    groups = ok(await call(auth_client, query, token=token_of(cast, OWNER)))["me"]["socialGroups"]
    friends = next(g for g in groups if g["kind"] == "FRIENDS")
    assert [m["userId"] for m in friends["members"]] == [friend["user"]["id"]]
    profile = friends["members"][0]["profile"]
    assert profile["territory"] == "no"
    assert profile["displayName"] is not None
    assert profile["bio"] is None
