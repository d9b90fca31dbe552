"""Privacy, table-driven: for every preset and field, what each kind of viewer sees.

One owner in `dk` with every profile field filled in. Viewers: anonymous (a stranger), an
account of `dk` sharing no community, an account of `dk` in a community with the owner, an
account of `se` (another territory on another database server), a friend (in `no`), a family
member (in `fn_sami`, on the second server), a neighbour (an account of `dk` in the owner's custom
group "Neighbours", otherwise related like the `dk` account) and the owner; an account of `se` is
also in the owner's custom group "Pen pals". The expected tables below are written out by hand,
not computed with the code under test.
"""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from db.engines import Database
from db.models import visibility_grants
from graph import ids
from tests.authkit import account, call, codes
from tests.files import png, upload, uploaded

OWNER, FAMILY, FRIEND, COMMUNITY, TERRITORY, NEIGHBOUR, OTHER, ANONYMOUS = (
    "owner",
    "family",
    "friend",
    "community",
    "same_territory",
    "neighbour",
    "other_territory",
    "anonymous",
)
VIEWERS = [OWNER, FAMILY, FRIEND, COMMUNITY, TERRITORY, NEIGHBOUR, OTHER, ANONYMOUS]

# preset -> viewers who see a field that follows the preset (no group shared with).
SEES: dict[str, set[str]] = {
    "ONLY_ME": {OWNER},
    "FAMILY": {OWNER, FAMILY},
    "FRIENDS": {OWNER, FAMILY, FRIEND},
    "COMMUNITY": {OWNER, FAMILY, FRIEND, COMMUNITY},
    "TERRITORY": {OWNER, FAMILY, FRIEND, COMMUNITY, TERRITORY, NEIGHBOUR},
    "ALL_TERRITORIES": {OWNER, FAMILY, FRIEND, COMMUNITY, TERRITORY, NEIGHBOUR, OTHER},
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
    id territory displayName bio location birthdate avatar { id } primaryLanguage
    preferredTranslationLanguage languages { language level } socialLinks { platform url }
  }
}"""
SETTINGS = "preset groups { name } fields { field visibility overridden groups { name } }"
SET_PRESET = (
    "mutation($v: Visibility!, $g: [ID!]) { "
    "setProfileVisibility(input: {visibility: $v, groups: $g}) { privacy { " + SETTINGS + " } } }"
)
SET_FIELD = (
    "mutation($f: ProfileField!, $v: Visibility, $g: [ID!]) { "
    "setFieldVisibility(input: {field: $f, visibility: $v, groups: $g}) { privacy { "
    + SETTINGS
    + " } } }"
)
GROUPS = "{ me { socialGroups { id kind name } } }"
CREATE_GROUP = (
    "mutation($n: String!) { createSocialGroup(input: {name: $n}) { socialGroup { id name } } }"
)
DELETE_GROUP = "mutation($id: ID!) { deleteSocialGroup(input: {id: $id}) { deletedId } }"
ADD_TO_GROUP = (
    "mutation($g: ID!, $u: ID!) { addToSocialGroup(input: {groupId: $g, userId: $u}) { "
    "wasMember } }"
)
CREATE_COMMUNITY = """
mutation($i: CreateCommunityInput!) {
  createCommunity(input: $i) { community { id slug visibility } } }"""
JOIN = """mutation($id: ID!) {
  joinCommunity(input: {communityId: $id}) { membership { role community { slug } } } }"""


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
        NEIGHBOUR: await account(auth_client, db, "dk"),
        OTHER: await account(auth_client, db, "se"),
    }
    owner = people[OWNER]["accessToken"]
    avatar = uploaded(await upload(auth_client, owner, png(), purpose="AVATAR"))["file"]["id"]
    ok(
        await call(
            auth_client,
            """mutation($i: UpdateProfileInput!) {
                 updateProfile(input: $i) { profile { displayName } } }""",
            {
                "i": {
                    "displayName": "Owner Person",
                    "bio": "Grows kale.",
                    "location": "Aarhus",
                    "birthdate": "1990-05-17",
                    "avatar": avatar,
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
            'mutation { setLanguageProficiency(input: {language: "se", level: B1}) { languages { '
            "language } } }",
            token=owner,
        )
    )
    ok(
        await call(
            auth_client,
            "mutation($i: AddSocialLinkInput!) { addSocialLink(input: $i) { socialLink { id } } }",
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
        assert ok(added) == {"addToSocialGroup": {"wasMember": False}}
    # Custom groups: Neighbours holds a dk account, Pen pals an account of se (second server).
    for name, who in (("Neighbours", NEIGHBOUR), ("Pen pals", OTHER)):
        created = ok(await call(auth_client, CREATE_GROUP, {"n": name}, owner))
        groups[name] = created["createSocialGroup"]["socialGroup"]["id"]
        added = await call(
            auth_client, ADD_TO_GROUP, {"g": groups[name], "u": people[who]["user"]["id"]}, owner
        )
        assert ok(added) == {"addToSocialGroup": {"wasMember": False}}
    groups["Friends"] = groups["FRIENDS"]
    manager = await account(auth_client, db, "dk", role="territory_manager")
    community = ok(
        await call(
            auth_client,
            CREATE_COMMUNITY,
            {"i": {"territory": "dk", "slug": f"privacy-{uuid.uuid4().hex[:8]}", "name": "P"}},
            manager["accessToken"],
        )
    )["createCommunity"]["community"]
    for who in (OWNER, COMMUNITY):
        ok(await call(auth_client, JOIN, {"id": community["id"]}, people[who]["accessToken"]))
    return {"people": people, "community": community["id"], "manager": manager, "groups": groups}


def token_of(cast: dict[str, Any], viewer: str) -> str | None:
    return None if viewer == ANONYMOUS else cast["people"][viewer]["accessToken"]


async def seen(auth_client: httpx.AsyncClient, cast: dict[str, Any], viewer: str) -> dict[str, Any]:
    """Which fields the viewer gets a value for (a null profile shows no field at all)."""
    owner_id = cast["people"][OWNER]["user"]["id"]
    body = await call(auth_client, PROFILE, {"id": owner_id}, token_of(cast, viewer))
    profile = ok(body)["profile"]
    return {} if profile is None else profile


async def reset(auth_client: httpx.AsyncClient, cast: dict[str, Any], preset: str) -> None:
    """The preset, no field of its own and no group shared with."""
    owner = cast["people"][OWNER]["accessToken"]
    ok(await call(auth_client, SET_PRESET, {"v": preset, "g": []}, owner))
    for field in FIELDS:
        settings = ok(await call(auth_client, SET_FIELD, {"f": field, "v": None}, owner))
    fields = settings["setFieldVisibility"]["privacy"]["fields"]
    assert not any(f["overridden"] or f["groups"] for f in fields)
    assert settings["setFieldVisibility"]["privacy"]["groups"] == []


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
            NEIGHBOUR: set(FIELDS) - {"BIO", "BIRTHDATE", "SOCIAL_LINKS"},
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
            NEIGHBOUR: {"DISPLAY_NAME", "LANGUAGES"},
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


ALL = set(FIELDS)
NOTHING: set[str] = set()

# (preset, groups of the profile's setting, {field: (own visibility, own groups)}) -> the fields
# each viewer sees. A viewer sees a field when the setting that applies (the field's own, else the
# profile's) admits their relation OR names a group they are in.
GROUP_CASES = [
    pytest.param(
        "ONLY_ME",
        ["Neighbours"],
        {},
        {
            OWNER: ALL,
            NEIGHBOUR: ALL,  # a member of the group the profile is shared with
            TERRITORY: NOTHING,  # the same relation, not a member
            FAMILY: NOTHING,
            FRIEND: NOTHING,
            COMMUNITY: NOTHING,
            OTHER: NOTHING,
            ANONYMOUS: NOTHING,
        },
        id="profile-shared-with-a-custom-group",
    ),
    pytest.param(
        "ONLY_ME",
        ["Neighbours"],
        {
            "BIRTHDATE": ("ONLY_ME", []),  # its own setting: the profile's groups do not reach it
            "BIO": ("FRIENDS", ["Neighbours"]),
            "LOCATION": ("COMMUNITY", []),
        },
        {
            OWNER: ALL,
            NEIGHBOUR: ALL - {"BIRTHDATE", "LOCATION"},
            TERRITORY: NOTHING,
            FAMILY: {"BIO", "LOCATION"},
            FRIEND: {"BIO", "LOCATION"},
            COMMUNITY: {"LOCATION"},
            OTHER: NOTHING,
            ANONYMOUS: NOTHING,
        },
        id="field-settings-replace-the-profile-groups",
    ),
    pytest.param(
        "PUBLIC",
        [],
        {
            "BIRTHDATE": ("ONLY_ME", ["Neighbours"]),
            "SOCIAL_LINKS": ("ONLY_ME", ["Friends"]),  # the group, not the FRIENDS circle
        },
        {
            OWNER: ALL,
            NEIGHBOUR: ALL - {"SOCIAL_LINKS"},
            TERRITORY: ALL - {"BIRTHDATE", "SOCIAL_LINKS"},
            FAMILY: ALL - {"BIRTHDATE", "SOCIAL_LINKS"},
            FRIEND: ALL - {"BIRTHDATE"},
            COMMUNITY: ALL - {"BIRTHDATE", "SOCIAL_LINKS"},
            OTHER: ALL - {"BIRTHDATE", "SOCIAL_LINKS"},
            ANONYMOUS: ALL - {"BIRTHDATE", "SOCIAL_LINKS"},
        },
        id="fields-shared-with-groups-under-a-wide-preset",
    ),
    pytest.param(
        "COMMUNITY",
        ["Pen pals"],
        {"BIO": ("ONLY_ME", ["Neighbours", "Pen pals"])},
        {
            OWNER: ALL,
            NEIGHBOUR: {"BIO"},
            TERRITORY: NOTHING,
            FAMILY: ALL - {"BIO"},
            FRIEND: ALL - {"BIO"},
            COMMUNITY: ALL - {"BIO"},
            OTHER: ALL,  # another territory's account, on another server, in "Pen pals"
            ANONYMOUS: NOTHING,
        },
        id="group-member-of-another-territory",
    ),
]


@pytest.mark.parametrize(("preset", "groups", "fields", "expected"), GROUP_CASES)
async def test_groups_widen_the_setting_that_applies(
    auth_client: httpx.AsyncClient,
    cast: dict[str, Any],
    preset: str,
    groups: list[str],
    fields: dict[str, tuple[str, list[str]]],
    expected: dict[str, set[str]],
) -> None:
    await reset(auth_client, cast, preset)
    owner = cast["people"][OWNER]["accessToken"]
    ids_of = cast["groups"]
    body = await call(
        auth_client, SET_PRESET, {"v": preset, "g": [ids_of[g] for g in groups]}, owner
    )
    settings = ok(body)["setProfileVisibility"]["privacy"]
    for field, (visibility, own) in fields.items():
        variables = {"f": field, "v": visibility, "g": [ids_of[g] for g in own]}
        set_field = ok(await call(auth_client, SET_FIELD, variables, owner))
        settings = set_field["setFieldVisibility"]["privacy"]
    # The owner's settings say what applies: a field's own groups, else the profile's.
    assert sorted(g["name"] for g in settings["groups"]) == sorted(groups)
    for entry in settings["fields"]:
        own_setting = fields.get(entry["field"])
        names = sorted(g["name"] for g in entry["groups"])
        assert entry["overridden"] is (own_setting is not None)
        assert names == sorted(groups if own_setting is None else own_setting[1]), entry
    assert set(expected) == set(VIEWERS)
    for viewer in VIEWERS:
        profile = await seen(auth_client, cast, viewer)
        shown = {field for field, key in FIELDS.items() if profile.get(key) is not None}
        assert shown == expected[viewer], viewer


async def test_changing_the_preset_keeps_groups_unless_named(
    auth_client: httpx.AsyncClient, cast: dict[str, Any]
) -> None:
    await reset(auth_client, cast, "ONLY_ME")
    owner = cast["people"][OWNER]["accessToken"]
    neighbours = cast["groups"]["Neighbours"]
    ok(await call(auth_client, SET_PRESET, {"v": "ONLY_ME", "g": [neighbours, neighbours]}, owner))
    ok(await call(auth_client, SET_FIELD, {"f": "BIO", "v": "ONLY_ME", "g": [neighbours]}, owner))
    # Omitted groups stay; a field whose visibility changes keeps its groups too.
    kept = ok(await call(auth_client, SET_PRESET, {"v": "FAMILY"}, owner))
    assert [g["name"] for g in kept["setProfileVisibility"]["privacy"]["groups"]] == ["Neighbours"]
    kept = ok(await call(auth_client, SET_FIELD, {"f": "BIO", "v": "FRIENDS"}, owner))
    fields = kept["setFieldVisibility"]["privacy"]["fields"]
    bio = next(f for f in fields if f["field"] == "BIO")
    assert bio == {
        "field": "BIO",
        "visibility": "FRIENDS",
        "overridden": True,
        "groups": [{"name": "Neighbours"}],
    }
    # null visibility: the field follows the profile again, its own groups are gone.
    back = ok(await call(auth_client, SET_FIELD, {"f": "BIO", "v": None}, owner))
    fields = back["setFieldVisibility"]["privacy"]["fields"]
    bio = next(f for f in fields if f["field"] == "BIO")
    assert bio == {
        "field": "BIO",
        "visibility": "FAMILY",
        "overridden": False,
        "groups": [{"name": "Neighbours"}],  # the profile's, which it follows now
    }
    cleared = ok(await call(auth_client, SET_PRESET, {"v": "FAMILY", "g": None}, owner))
    assert cleared["setProfileVisibility"]["privacy"]["groups"] == []


async def test_only_your_own_groups_can_be_named(
    auth_client: httpx.AsyncClient, cast: dict[str, Any], db: Database
) -> None:
    """Another person's group (same territory or not), a made-up id: NOT_FOUND, nothing changes."""
    await reset(auth_client, cast, "ONLY_ME")
    people = cast["people"]
    owner = people[OWNER]["accessToken"]
    stranger = await account(auth_client, db, "dk")
    theirs = ok(await call(auth_client, CREATE_GROUP, {"n": "Mine"}, stranger["accessToken"]))
    friend_groups = ok(await call(auth_client, GROUPS, token=people[FRIEND]["accessToken"]))
    other_territory = friend_groups["me"]["socialGroups"][0]["id"]  # the friend's Family, in `no`
    made_up = ids.encode("SocialGroup", "dk", str(uuid.uuid4()))
    neighbours = cast["groups"]["Neighbours"]
    for forged in (theirs["createSocialGroup"]["socialGroup"]["id"], other_territory, made_up):
        for query, variables in (
            (SET_PRESET, {"v": "PUBLIC", "g": [neighbours, forged]}),
            (SET_FIELD, {"f": "BIO", "v": "PUBLIC", "g": [forged]}),
        ):
            body = await call(auth_client, query, variables, owner)
            assert codes(body) == ["NOT_FOUND"], (forged, body)
    not_a_group = people[NEIGHBOUR]["user"]["id"]
    for query, variables in (
        (SET_PRESET, {"v": "PUBLIC", "g": [not_a_group]}),
        (SET_FIELD, {"f": "BIO", "v": None, "g": [neighbours]}),  # following the profile
    ):
        assert codes(await call(auth_client, query, variables, owner)) == ["BAD_USER_INPUT"]
    # All or nothing: neither the preset nor any group changed.
    settings = ok(await call(auth_client, "{ me { privacy { " + SETTINGS + " } } }", token=owner))
    privacy = settings["me"]["privacy"]
    assert privacy["preset"] == "ONLY_ME"
    assert privacy["groups"] == []
    assert not any(f["overridden"] or f["groups"] for f in privacy["fields"])
    assert await seen(auth_client, cast, NEIGHBOUR) == {}
    # Family and Friends may be named before they were ever written (derived ids).
    fresh = await account(auth_client, db, "se")
    family = ok(await call(auth_client, GROUPS, token=fresh["accessToken"]))["me"]["socialGroups"][
        0
    ]
    shared = ok(
        await call(
            auth_client, SET_PRESET, {"v": "ONLY_ME", "g": [family["id"]]}, fresh["accessToken"]
        )
    )
    assert shared["setProfileVisibility"]["privacy"]["groups"] == [{"name": "Family"}]


async def test_deleting_a_group_removes_its_grants(
    auth_client: httpx.AsyncClient, cast: dict[str, Any], db: Database
) -> None:
    await reset(auth_client, cast, "ONLY_ME")
    owner = cast["people"][OWNER]["accessToken"]
    viewer = await account(auth_client, db, "no")
    group = ok(await call(auth_client, CREATE_GROUP, {"n": "Temporary"}, owner))
    group_id = group["createSocialGroup"]["socialGroup"]["id"]
    added = {"g": group_id, "u": viewer["user"]["id"]}
    assert ok(await call(auth_client, ADD_TO_GROUP, added, owner)) == {
        "addToSocialGroup": {"wasMember": False}
    }
    ok(await call(auth_client, SET_PRESET, {"v": "ONLY_ME", "g": [group_id]}, owner))
    ok(await call(auth_client, SET_FIELD, {"f": "BIO", "v": "ONLY_ME", "g": [group_id]}, owner))
    node = "query($id: ID!) { node(id: $id) { ... on Profile { displayName bio birthdate } } }"
    owner_id = cast["people"][OWNER]["user"]["id"]
    profile_id = ids.encode("Profile", "dk", ids.decode(owner_id).key)
    token = viewer["accessToken"]
    assert ok(await call(auth_client, node, {"id": profile_id}, token))["node"] == {
        "displayName": "Owner Person",
        "bio": "Grows kale.",
        "birthdate": "1990-05-17",  # follows the profile (reset cleared its own setting)
    }
    assert ok(await call(auth_client, DELETE_GROUP, {"id": group_id}, owner)) == {
        "deleteSocialGroup": {"deletedId": group_id}
    }
    assert codes(await call(auth_client, node, {"id": profile_id}, token)) == ["NOT_FOUND"]
    privacy = ok(await call(auth_client, "{ me { privacy { " + SETTINGS + " } } }", token=owner))
    assert privacy["me"]["privacy"]["groups"] == []
    assert all(f["groups"] == [] for f in privacy["me"]["privacy"]["fields"])
    async with db.connect("main", "dk") as conn:
        left = await conn.execute(
            select(func.count())
            .select_from(visibility_grants)
            .where(visibility_grants.c.group_id == ids.parse_uuid(ids.decode(group_id).key))
        )
        assert left.scalar_one() == 0


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
