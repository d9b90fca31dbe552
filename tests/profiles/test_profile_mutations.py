"""Changing one's own profile over GraphQL with real tokens, on both database servers."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from db.engines import Database
from graph import ids
from tests.authkit import account, call, codes

SERVERS = pytest.mark.parametrize("territory", ["dk", "se"])  # main server, second server

UPDATE = """
mutation($i: UpdateProfileInput!) {
  updateProfile(input: $i) {
    profile { id displayName bio location birthdate avatar { id } primaryLanguage }
  }
}"""
SET_LANGUAGE = """
mutation($i: SetLanguageProficiencyInput!) {
  setLanguageProficiency(input: $i) {
    languages { language level } profile { id languages { language level } }
  }
}"""
ADD_LINK = """
mutation($i: AddSocialLinkInput!) {
  addSocialLink(input: $i) {
    socialLink { id platform url label } profile { socialLinks { id url } }
  }
}"""
REMOVE_LINK = """
mutation($id: ID!) {
  removeSocialLink(input: {id: $id}) { deletedId profile { socialLinks { id } } }
}"""
NOTIFY = """
mutation($i: UpdateNotificationPreferencesInput!) {
  updateNotificationPreferences(input: $i) {
    notificationPreferences { settings { event email push } quietHours { start end timeZone } }
  }
}"""
SET_PRESET = """
mutation($i: SetProfileVisibilityInput!) {
  setProfileVisibility(input: $i) { privacy { preset groups { name } } }
}"""
SET_FIELD = """
mutation($i: SetFieldVisibilityInput!) {
  setFieldVisibility(input: $i) {
    privacy { preset fields { field visibility overridden groups { name } } }
  }
}"""
GITHUB = {"platform": "github", "url": "https://github.com/asa"}
NIGHT = {"start": "22:00:00", "end": "07:00:00", "timeZone": "Europe/Stockholm"}


def ok(body: dict[str, Any]) -> dict[str, Any]:
    assert "errors" not in body, body
    data: dict[str, Any] = body["data"]
    return data


def field_of(body: dict[str, Any]) -> str | None:
    """The refusal's ``extensions.field`` (the input field at fault), after checking its code."""
    assert len(body["errors"]) == 1, body
    assert body["errors"][0]["message"]
    found: str | None = body["errors"][0]["extensions"].get("field")
    return found


async def token_in(client: httpx.AsyncClient, db: Database, territory: str) -> str:
    token: str = (await account(client, db, territory))["accessToken"]
    return token


@SERVERS
async def test_update_profile_returns_the_normalised_profile(
    auth_client: httpx.AsyncClient, db: Database, territory: str
) -> None:
    me = await account(auth_client, db, territory)
    changes = {"displayName": "  Åsa  ", "bio": "Hej\nthere", "primaryLanguage": "SMA"}
    body = await call(auth_client, UPDATE, {"i": changes}, me["accessToken"])
    key = ids.decode(me["user"]["id"])
    assert ok(body)["updateProfile"] == {
        "profile": {
            "id": ids.encode("Profile", territory, key.key),
            "displayName": "Åsa",
            "bio": "Hej\nthere",
            "location": None,
            "birthdate": None,
            "avatar": None,
            "primaryLanguage": "sma",
        }
    }


async def test_update_profile_keeps_omitted_fields_and_clears_null_ones(
    auth_client: httpx.AsyncClient, db: Database
) -> None:
    token = await token_in(auth_client, db, "se")
    ok(await call(auth_client, UPDATE, {"i": {"displayName": "Åsa", "bio": "Hej"}}, token))
    again = ok(await call(auth_client, UPDATE, {"i": {"bio": None, "location": "Kiruna"}}, token))
    profile = again["updateProfile"]["profile"]
    assert (profile["bio"], profile["location"], profile["displayName"]) == (
        None,
        "Kiruna",
        "Åsa",
    )


@pytest.mark.parametrize(
    ("bad", "field"),
    [
        ({"displayName": None}, "displayName"),
        ({"displayName": "x" * 129}, "displayName"),
        ({"bio": "x" * 2001}, "bio"),
        ({"birthdate": "2999-01-01"}, "birthdate"),
        ({"avatar": "https://example.org/me.png"}, "avatar"),
        ({"primaryLanguage": "klingon"}, "primaryLanguage"),
        ({"preferredTranslationLanguage": "xx"}, "preferredTranslationLanguage"),
        ({"location": "a\x00b"}, "location"),
        ({}, None),  # names no field to change: no single field is at fault
    ],
)
async def test_update_profile_refusals_name_the_field(
    auth_client: httpx.AsyncClient, db: Database, bad: dict[str, Any], field: str | None
) -> None:
    token = await token_in(auth_client, db, "dk")
    body = await call(auth_client, UPDATE, {"i": bad}, token)
    assert codes(body) == ["BAD_USER_INPUT"], (bad, body)
    assert field_of(body) == field


async def test_profile_mutations_need_a_login(auth_client: httpx.AsyncClient) -> None:
    for query, variables in (
        (UPDATE, {"i": {"bio": "x"}}),
        (SET_LANGUAGE, {"i": {"language": "sv", "level": "A1"}}),
        (ADD_LINK, {"i": GITHUB}),
        (NOTIFY, {"i": {"settings": []}}),
        (SET_PRESET, {"i": {"visibility": "PUBLIC"}}),
    ):
        assert codes(await call(auth_client, query, variables)) == ["UNAUTHENTICATED"], query


@SERVERS
async def test_set_language_proficiency_returns_all_languages_best_first(
    auth_client: httpx.AsyncClient, db: Database, territory: str
) -> None:
    token = await token_in(auth_client, db, territory)
    ok(await call(auth_client, SET_LANGUAGE, {"i": {"language": "sv", "level": "NATIVE"}}, token))
    body = await call(auth_client, SET_LANGUAGE, {"i": {"language": "en-gb", "level": "C1"}}, token)
    expected = [{"language": "sv", "level": "NATIVE"}, {"language": "en-GB", "level": "C1"}]
    payload = ok(body)["setLanguageProficiency"]
    assert payload["languages"] == expected
    assert payload["profile"]["languages"] == expected


async def test_set_language_proficiency_without_level_removes_it(
    auth_client: httpx.AsyncClient, db: Database
) -> None:
    token = await token_in(auth_client, db, "dk")
    ok(await call(auth_client, SET_LANGUAGE, {"i": {"language": "sv", "level": "B2"}}, token))
    removed = ok(await call(auth_client, SET_LANGUAGE, {"i": {"language": "sv"}}, token))
    assert removed["setLanguageProficiency"]["languages"] == []


async def test_set_language_proficiency_refuses_a_bad_tag_by_name(
    auth_client: httpx.AsyncClient, db: Database
) -> None:
    token = await token_in(auth_client, db, "dk")
    body = await call(auth_client, SET_LANGUAGE, {"i": {"language": "xx", "level": "A1"}}, token)
    assert codes(body) == ["BAD_USER_INPUT"]
    assert field_of(body) == "language"


@SERVERS
async def test_add_social_link_returns_the_link_and_the_profile(
    auth_client: httpx.AsyncClient, db: Database, territory: str
) -> None:
    token = await token_in(auth_client, db, territory)
    payload = ok(await call(auth_client, ADD_LINK, {"i": GITHUB}, token))["addSocialLink"]
    link = payload["socialLink"]
    assert {k: link[k] for k in ("platform", "url", "label")} == {**GITHUB, "label": None}
    assert ids.decode(link["id"]).type_name == "SocialLink"
    assert payload["profile"]["socialLinks"] == [{"id": link["id"], "url": GITHUB["url"]}]


@pytest.mark.parametrize(
    ("bad", "field"),
    [
        ({"platform": "github", "url": "https://gitlab.com/asa"}, "url"),
        ({"platform": "custom", "url": "http://asa.example.org", "label": "Blog"}, "url"),
        ({"platform": "custom", "url": "https://asa.example.org"}, "label"),
        ({"platform": "myspace", "url": "https://myspace.com/asa"}, "platform"),
    ],
)
async def test_add_social_link_refusals_name_the_field(
    auth_client: httpx.AsyncClient, db: Database, bad: dict[str, str], field: str
) -> None:
    token = await token_in(auth_client, db, "dk")
    body = await call(auth_client, ADD_LINK, {"i": bad}, token)
    assert codes(body) == ["BAD_USER_INPUT"]
    assert field_of(body) == field


async def test_custom_links_keep_their_label_and_order(
    auth_client: httpx.AsyncClient, db: Database
) -> None:
    token = await token_in(auth_client, db, "se")
    ok(await call(auth_client, ADD_LINK, {"i": GITHUB}, token))
    blog = {"platform": "custom", "url": "https://asa.example.org/", "label": "Blog"}
    payload = ok(await call(auth_client, ADD_LINK, {"i": blog}, token))["addSocialLink"]
    assert payload["socialLink"]["label"] == "Blog"
    assert [x["url"] for x in payload["profile"]["socialLinks"]] == [GITHUB["url"], blog["url"]]


@SERVERS
async def test_remove_social_link_returns_the_deleted_id(
    auth_client: httpx.AsyncClient, db: Database, territory: str
) -> None:
    token = await token_in(auth_client, db, territory)
    link = ok(await call(auth_client, ADD_LINK, {"i": GITHUB}, token))["addSocialLink"]
    link_id = link["socialLink"]["id"]
    removed = ok(await call(auth_client, REMOVE_LINK, {"id": link_id}, token))
    assert removed == {"removeSocialLink": {"deletedId": link_id, "profile": {"socialLinks": []}}}
    again = await call(auth_client, REMOVE_LINK, {"id": link_id}, token)
    assert codes(again) == ["NOT_FOUND"]
    assert field_of(again) == "id"


async def test_someone_else_cannot_remove_my_link(
    auth_client: httpx.AsyncClient, db: Database
) -> None:
    mine = await token_in(auth_client, db, "se")
    link = ok(await call(auth_client, ADD_LINK, {"i": GITHUB}, mine))["addSocialLink"]
    link_id = link["socialLink"]["id"]
    for territory in ("se", "dk"):
        other = await token_in(auth_client, db, territory)
        assert codes(await call(auth_client, REMOVE_LINK, {"id": link_id}, other)) == ["NOT_FOUND"]
    me = ok(await call(auth_client, "{ me { profile { socialLinks { id } } } }", token=mine))
    assert me["me"]["profile"]["socialLinks"] == [{"id": link_id}]


async def test_remove_social_link_refuses_another_type_of_id_by_name(
    auth_client: httpx.AsyncClient, db: Database
) -> None:
    me = await account(auth_client, db, "dk")
    body = await call(auth_client, REMOVE_LINK, {"id": me["user"]["id"]}, me["accessToken"])
    assert codes(body) == ["BAD_USER_INPUT"]
    assert field_of(body) == "id"


@SERVERS
async def test_update_notification_preferences_returns_them(
    auth_client: httpx.AsyncClient, db: Database, territory: str
) -> None:
    token = await token_in(auth_client, db, territory)
    changes = {"settings": [{"event": "COMMUNITY_ACTIVITY", "email": True}], "quietHours": NIGHT}
    body = await call(auth_client, NOTIFY, {"i": changes}, token)
    prefs = ok(body)["updateNotificationPreferences"]["notificationPreferences"]
    assert prefs["quietHours"] == NIGHT
    activity = next(s for s in prefs["settings"] if s["event"] == "COMMUNITY_ACTIVITY")
    assert activity == {"event": "COMMUNITY_ACTIVITY", "email": True, "push": False}


async def test_omitted_quiet_hours_stay_and_null_clears_them(
    auth_client: httpx.AsyncClient, db: Database
) -> None:
    token = await token_in(auth_client, db, "dk")
    ok(await call(auth_client, NOTIFY, {"i": {"quietHours": NIGHT}}, token))
    kept = ok(await call(auth_client, NOTIFY, {"i": {"settings": []}}, token))
    assert kept["updateNotificationPreferences"]["notificationPreferences"]["quietHours"] == NIGHT
    cleared = ok(await call(auth_client, NOTIFY, {"i": {"quietHours": None}}, token))
    assert cleared["updateNotificationPreferences"]["notificationPreferences"]["quietHours"] is None


@pytest.mark.parametrize(
    ("bad", "field"),
    [
        ({"settings": [{"event": "SECURITY_ALERT", "email": False}]}, "settings"),
        ({"quietHours": {**NIGHT, "timeZone": "Mars/Base"}}, "quietHours"),
        ({"quietHours": {**NIGHT, "end": NIGHT["start"]}}, "quietHours"),
    ],
)
async def test_update_notification_preferences_refusals_name_the_field(
    auth_client: httpx.AsyncClient, db: Database, bad: dict[str, Any], field: str
) -> None:
    token = await token_in(auth_client, db, "dk")
    body = await call(auth_client, NOTIFY, {"i": bad}, token)
    assert codes(body) == ["BAD_USER_INPUT"]
    assert field_of(body) == field


@SERVERS
async def test_set_profile_visibility_returns_the_settings(
    auth_client: httpx.AsyncClient, db: Database, territory: str
) -> None:
    token = await token_in(auth_client, db, territory)
    body = await call(auth_client, SET_PRESET, {"i": {"visibility": "FRIENDS"}}, token)
    assert ok(body) == {"setProfileVisibility": {"privacy": {"preset": "FRIENDS", "groups": []}}}


async def test_set_profile_visibility_refuses_a_non_group_id_by_name(
    auth_client: httpx.AsyncClient, db: Database
) -> None:
    me = await account(auth_client, db, "dk")
    variables = {"i": {"visibility": "PUBLIC", "groups": [me["user"]["id"]]}}
    body = await call(auth_client, SET_PRESET, variables, me["accessToken"])
    assert codes(body) == ["BAD_USER_INPUT"]
    assert field_of(body) == "groups"


@SERVERS
async def test_set_field_visibility_returns_the_settings(
    auth_client: httpx.AsyncClient, db: Database, territory: str
) -> None:
    token = await token_in(auth_client, db, territory)
    variables = {"i": {"field": "BIO", "visibility": "ONLY_ME"}}
    privacy = ok(await call(auth_client, SET_FIELD, variables, token))["setFieldVisibility"]
    bio = next(f for f in privacy["privacy"]["fields"] if f["field"] == "BIO")
    assert bio == {"field": "BIO", "visibility": "ONLY_ME", "overridden": True, "groups": []}


async def test_set_field_visibility_refuses_groups_for_a_following_field_by_name(
    auth_client: httpx.AsyncClient, db: Database
) -> None:
    token = await token_in(auth_client, db, "dk")
    groups = ok(await call(auth_client, "{ me { socialGroups { id } } }", token=token))
    family = groups["me"]["socialGroups"][0]["id"]
    variables = {"i": {"field": "BIO", "visibility": None, "groups": [family]}}
    body = await call(auth_client, SET_FIELD, variables, token)
    assert codes(body) == ["BAD_USER_INPUT"]
    assert field_of(body) == "groups"
