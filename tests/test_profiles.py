"""Profiles, social groups and communities over GraphQL with real tokens; statement counts."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
from sqlalchemy import select

from db.engines import Database
from db.models import audit_log
from graph import ids
from tests.authkit import account, call, codes
from tests.conftest import StatementCounter

UPDATE = """
mutation($i: UpdateProfileInput!) {
  updateProfile(input: $i) { displayName bio location birthdate avatar primaryLanguage }
}"""
ME = """
{ me { profile { displayName bio languages { language level }
                 socialLinks { id platform url label } }
       privacy { preset fields { field visibility overridden } }
       notificationPreferences { settings { event email push } quietHours { start end timeZone } }
       socialGroups { id kind name members { userId } } } }"""
ADD_LINK = "mutation($i: SocialLinkInput!) { addSocialLink(input: $i) { id platform url label } }"
NOTIFY = """
mutation($i: NotificationPreferencesInput!) {
  updateNotificationPreferences(input: $i) {
    settings { event email push } quietHours { start end timeZone }
  }
}"""
CREATE_COMMUNITY = """
mutation($i: CreateCommunityInput!) {
  createCommunity(input: $i) { id slug visibility viewerRole }
}"""


def ok(body: dict[str, Any]) -> dict[str, Any]:
    assert "errors" not in body, body
    data: dict[str, Any] = body["data"]
    return data


async def test_profile_update_validation_and_settings(
    auth_client: httpx.AsyncClient, db: Database
) -> None:
    me = await account(auth_client, db, "se")  # a territory on the second server
    token = me["accessToken"]
    updated = ok(
        await call(
            auth_client,
            UPDATE,
            {"i": {"displayName": "  Åsa  ", "bio": "Hej\nthere", "primaryLanguage": "SMA"}},
            token,
        )
    )["updateProfile"]
    assert updated == {
        "displayName": "Åsa",
        "bio": "Hej\nthere",
        "location": None,
        "birthdate": None,
        "avatar": None,
        "primaryLanguage": "sma",
    }
    # Omitted fields stay; null clears.
    again = ok(await call(auth_client, UPDATE, {"i": {"bio": None, "location": "Kiruna"}}, token))
    assert again["updateProfile"]["bio"] is None
    assert again["updateProfile"]["displayName"] == "Åsa"
    for bad in (
        {"displayName": None},
        {"displayName": "x" * 129},
        {"bio": "x" * 2001},
        {"birthdate": "2999-01-01"},
        {"avatar": "https://example.org/me.png"},
        {"primaryLanguage": "klingon"},
        {"location": "a\x00b"},
        {},
    ):
        body = await call(auth_client, UPDATE, {"i": bad}, token)
        assert codes(body) == ["BAD_USER_INPUT"], (bad, body)
        assert body["errors"][0]["message"]
    assert codes(await call(auth_client, UPDATE, {"i": {"bio": "x"}})) == ["UNAUTHENTICATED"]

    # Languages, links, notifications.
    lang = (
        "mutation($l: String!, $v: LanguageLevel) "
        "{ setLanguageProficiency(language: $l, level: $v) { language level } }"
    )
    ok(await call(auth_client, lang, {"l": "sv", "v": "NATIVE"}, token))
    langs = ok(await call(auth_client, lang, {"l": "en-GB", "v": "C1"}, token))
    assert langs["setLanguageProficiency"] == [
        {"language": "sv", "level": "NATIVE"},
        {"language": "en-GB", "level": "C1"},
    ]
    assert codes(await call(auth_client, lang, {"l": "xx", "v": "A1"}, token)) == ["BAD_USER_INPUT"]
    link = ok(
        await call(
            auth_client,
            ADD_LINK,
            {"i": {"platform": "github", "url": "https://github.com/asa"}},
            token,
        )
    )["addSocialLink"]
    for bad in (
        {"platform": "github", "url": "https://gitlab.com/asa"},
        {"platform": "custom", "url": "https://asa.example.org"},
        {"platform": "custom", "url": "http://asa.example.org", "label": "Blog"},
    ):
        assert codes(await call(auth_client, ADD_LINK, {"i": bad}, token)) == ["BAD_USER_INPUT"]
    ok(
        await call(
            auth_client,
            ADD_LINK,
            {"i": {"platform": "custom", "url": "https://asa.example.org/", "label": "Blog"}},
            token,
        )
    )
    prefs = ok(
        await call(
            auth_client,
            NOTIFY,
            {
                "i": {
                    "settings": [{"event": "COMMUNITY_ACTIVITY", "email": True}],
                    "quietHours": {
                        "start": "22:00:00",
                        "end": "07:00:00",
                        "timeZone": "Europe/Stockholm",
                    },
                }
            },
            token,
        )
    )["updateNotificationPreferences"]
    assert prefs["quietHours"] == {
        "start": "22:00:00",
        "end": "07:00:00",
        "timeZone": "Europe/Stockholm",
    }
    activity = next(s for s in prefs["settings"] if s["event"] == "COMMUNITY_ACTIVITY")
    assert activity == {"event": "COMMUNITY_ACTIVITY", "email": True, "push": False}
    for bad in (
        {"settings": [{"event": "SECURITY_ALERT", "email": False}]},
        {"quietHours": {"start": "22:00:00", "end": "07:00:00", "timeZone": "Mars/Base"}},
    ):
        assert codes(await call(auth_client, NOTIFY, {"i": bad}, token)) == ["BAD_USER_INPUT"]
    # Omitting quietHours keeps them.
    kept = ok(await call(auth_client, NOTIFY, {"i": {"settings": []}}, token))
    assert kept["updateNotificationPreferences"]["quietHours"] is not None

    mine = ok(await call(auth_client, ME, token=token))["me"]
    assert [x["platform"] for x in mine["profile"]["socialLinks"]] == ["github", "custom"]
    assert mine["privacy"]["preset"] == "TERRITORY"
    birthdate = next(f for f in mine["privacy"]["fields"] if f["field"] == "BIRTHDATE")
    assert birthdate == {"field": "BIRTHDATE", "visibility": "ONLY_ME", "overridden": True}
    assert [g["kind"] for g in mine["socialGroups"]] == ["FAMILY", "FRIENDS"]
    remove = "mutation($id: ID!) { removeSocialLink(id: $id) }"
    assert ok(await call(auth_client, remove, {"id": link["id"]}, token)) == {
        "removeSocialLink": True
    }
    assert codes(await call(auth_client, remove, {"id": link["id"]}, token)) == ["NOT_FOUND"]
    # Someone else cannot remove my links.
    other = await account(auth_client, db, "se")
    second = ok(await call(auth_client, ME, token=token))["me"]["profile"]["socialLinks"][0]["id"]
    assert codes(await call(auth_client, remove, {"id": second}, other["accessToken"])) == [
        "NOT_FOUND"
    ]


async def test_social_groups(auth_client: httpx.AsyncClient, db: Database) -> None:
    owner = await account(auth_client, db, "dk")
    friend = await account(auth_client, db, "fn_sami")
    token = owner["accessToken"]
    created = ok(
        await call(
            auth_client,
            'mutation { createSocialGroup(name: " Choir ") { id name kind } }',
            token=token,
        )
    )["createSocialGroup"]
    assert (created["name"], created["kind"]) == ("Choir", "CUSTOM")
    for name in ("Choir", "family", "", "x" * 65):
        body = await call(
            auth_client,
            "mutation($n: String!) { createSocialGroup(name: $n) { id } }",
            {"n": name},
            token,
        )
        assert codes(body) in (["ALREADY_EXISTS"], ["BAD_USER_INPUT"]), (name, body)
    add = "mutation($g: ID!, $u: ID!) { addToSocialGroup(groupId: $g, userId: $u) }"
    assert ok(
        await call(auth_client, add, {"g": created["id"], "u": friend["user"]["id"]}, token)
    ) == {"addToSocialGroup": True}
    assert ok(
        await call(auth_client, add, {"g": created["id"], "u": friend["user"]["id"]}, token)
    ) == {"addToSocialGroup": False}
    assert codes(
        await call(auth_client, add, {"g": created["id"], "u": owner["user"]["id"]}, token)
    ) == ["BAD_USER_INPUT"]
    key = ids.decode(friend["user"]["id"])
    missing = ids.encode("User", key.territory_id, str(uuid.uuid4()))
    assert codes(await call(auth_client, add, {"g": created["id"], "u": missing}, token)) == [
        "NOT_FOUND"
    ]
    # Another user cannot touch my group.
    assert codes(
        await call(
            auth_client, add, {"g": created["id"], "u": owner["user"]["id"]}, friend["accessToken"]
        )
    ) == ["NOT_FOUND"]
    renamed = ok(
        await call(
            auth_client,
            'mutation($id: ID!) { renameSocialGroup(id: $id, name: "Singers") { name } }',
            {"id": created["id"]},
            token,
        )
    )
    assert renamed == {"renameSocialGroup": {"name": "Singers"}}
    groups = ok(
        await call(
            auth_client, "{ me { socialGroups { id kind name members { userId } } } }", token=token
        )
    )["me"]["socialGroups"]
    assert [(g["kind"], g["name"]) for g in groups] == [
        ("FAMILY", "Family"),
        ("FRIENDS", "Friends"),
        ("CUSTOM", "Singers"),
    ]
    assert groups[2]["members"] == [{"userId": friend["user"]["id"]}]
    family = groups[0]["id"]
    assert codes(
        await call(
            auth_client, "mutation($id: ID!) { deleteSocialGroup(id: $id) }", {"id": family}, token
        )
    ) == ["BAD_USER_INPUT"]
    remove = "mutation($g: ID!, $u: ID!) { removeFromSocialGroup(groupId: $g, userId: $u) }"
    assert ok(
        await call(auth_client, remove, {"g": created["id"], "u": friend["user"]["id"]}, token)
    ) == {"removeFromSocialGroup": True}
    assert ok(
        await call(
            auth_client,
            "mutation($id: ID!) { deleteSocialGroup(id: $id) }",
            {"id": created["id"]},
            token,
        )
    ) == {"deleteSocialGroup": True}
    # Groups are the owner's alone: a manager reading the account gets null.
    manager = await account(auth_client, db, "dk", role="territory_manager")
    q = (
        "query($id: ID!) { node(id: $id) { ... on User { socialGroups { id } "
        "notificationPreferences { quietHours { start } } } } }"
    )
    seen = ok(await call(auth_client, q, {"id": owner["user"]["id"]}, manager["accessToken"]))[
        "node"
    ]
    assert seen == {"socialGroups": None, "notificationPreferences": None}


async def last_audit_id(db: Database) -> int:
    async with db.connect("main") as conn:
        found = (
            await conn.execute(select(audit_log.c.id).order_by(audit_log.c.id.desc()).limit(1))
        ).scalar()
    return int(found or 0)


async def audited(db: Database, since: int) -> list[tuple[str, dict[str, Any]]]:
    async with db.connect("main") as conn:
        rows = await conn.execute(
            select(audit_log.c.action, audit_log.c.details)
            .where(audit_log.c.id > since, audit_log.c.action.like("community.%"))
            .order_by(audit_log.c.id)
        )
        return [(str(a), dict(d)) for a, d in rows]


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
            ok(
                await call(
                    auth_client,
                    'mutation { setLanguageProficiency(language: "da", level: A2) { language } }',
                    token=token,
                )
            )
            ok(
                await call(
                    auth_client,
                    "mutation { setProfileVisibility(visibility: ALL_TERRITORIES) { preset } }",
                    token=token,
                )
            )
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


def _profile_id(person: dict[str, Any]) -> str:
    key = ids.decode(person["user"]["id"])
    return ids.encode("Profile", key.territory_id, key.key)


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
            group = ok(
                await call(
                    auth_client, 'mutation { createSocialGroup(name: "Pals") { id } }', token=token
                )
            )["createSocialGroup"]["id"]
            ok(
                await call(
                    auth_client,
                    "mutation($g: ID!, $u: ID!) { addToSocialGroup(groupId: $g, userId: $u) }",
                    {"g": group, "u": viewer["user"]["id"]},
                    token,
                )
            )
            ok(
                await call(
                    auth_client,
                    "mutation($g: [ID!]) { setProfileVisibility(visibility: ONLY_ME, groups: $g) "
                    "{ preset } }",
                    {"g": [group]},
                    token,
                )
            )
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
