"""Regressions found in the identity/access/privacy review: each failed before its fix."""

from __future__ import annotations

import asyncio
import unicodedata
import uuid
from typing import Any

import httpx
import pytest

from db.engines import Database
from domain.errors import BadUserInput
from domain.profiles import validate_social_link
from tests.authkit import (
    REFRESH,
    account,
    call,
    codes,
    invite,
    login,
    register,
    unique,
    user_count,
)

UPDATE = "mutation($i: UpdateProfileInput!) { updateProfile(input: $i) { displayName } }"
REGISTER_FULL = """
mutation($input: RegisterInput!) { register(input: $input) { id displayName } }"""
CREATE_COMMUNITY = """
mutation($i: CreateCommunityInput!) { createCommunity(input: $i) { community { id } } }"""
GROUP = "mutation($n: String!) { createSocialGroup(name: $n) { id name } }"


def _register_input(token: str, **overrides: Any) -> dict[str, Any]:
    name = unique()
    return {
        "input": {
            "invitationToken": token,
            "username": name,
            "email": f"{name}@example.org",
            "password": "a long enough passphrase 42",
            **overrides,
        }
    }


@pytest.mark.parametrize("bad", ["a\x00b", "a\x07b", "x\u202egnp.exe"])
async def test_control_characters_are_refused_not_internal_errors(
    auth_client: httpx.AsyncClient, db: Database, bad: str
) -> None:
    """NUL used to reach PostgreSQL (a masked 500); bidi overrides spoofed names."""
    me = await account(auth_client, db, "dk")
    t = me["accessToken"]
    assert codes(await call(auth_client, UPDATE, {"i": {"displayName": bad}}, t)) == [
        "BAD_USER_INPUT"
    ]
    assert codes(await call(auth_client, GROUP, {"n": bad}, t)) == ["BAD_USER_INPUT"]
    # A display name is one line; a group name's line breaks become spaces.
    assert codes(await call(auth_client, UPDATE, {"i": {"displayName": "a\nb"}}, t)) == [
        "BAD_USER_INPUT"
    ]
    assert "errors" not in await call(auth_client, GROUP, {"n": f"a\n{bad[-1]}"}, t)
    before = await user_count(db, "dk")
    token = await invite(db, "dk", max_uses=5)
    assert codes(
        await call(auth_client, REGISTER_FULL, _register_input(token, displayName=bad))
    ) == ["BAD_USER_INPUT"]
    assert codes(
        await call(auth_client, REGISTER_FULL, _register_input(token, email=f"{bad}@example.org"))
    ) == ["BAD_USER_INPUT"]
    assert await user_count(db, "dk") == before
    manager = await account(auth_client, db, "dk", role="territory_manager")
    slug = f"c-{uuid.uuid4().hex[:8]}"
    # Multi-line texts (descriptions, bios) may use bidirectional controls; names may not.
    for field in ("name",) if bad.startswith("x\u202e") else ("name", "description"):
        body = {"territory": "dk", "slug": slug, "name": "Garden", field: bad}
        assert codes(
            await call(auth_client, CREATE_COMMUNITY, {"i": body}, manager["accessToken"])
        ) == ["BAD_USER_INPUT"]


async def test_login_identifier_with_control_characters(
    auth_client: httpx.AsyncClient,
) -> None:
    for identifier in ("a\x00b", "a\x00b@example.org", "   "):
        assert codes(await login(auth_client, identifier)) == ["INVALID_CREDENTIALS"]


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


async def test_emails_are_unicode_normalised(auth_client: httpx.AsyncClient, db: Database) -> None:
    """NFC and NFD spellings of one address were two accounts and did not log each other in."""
    local = unique("jos")
    composed = unicodedata.normalize("NFC", f"{local}\u00e9@example.org")
    decomposed = unicodedata.normalize("NFD", composed)
    assert composed != decomposed
    token = await invite(db, "dk", max_uses=2)
    assert "errors" not in await register(auth_client, token, email=decomposed)
    assert codes(await register(auth_client, token, email=composed)) == ["ALREADY_EXISTS"]
    logged = await login(auth_client, composed, territory="dk")
    assert "errors" not in logged, logged


async def test_account_throttling_covers_username_and_email(
    auth_client: httpx.AsyncClient, db: Database
) -> None:
    """The per-account limit counted the username and the email apart: twice the guesses."""
    me = await account(auth_client, db, "no")
    username = me["user"]["username"]
    email = f"{username}@example.org"
    for who in (username, email.upper(), username):  # auth_settings: 3 failures per account
        assert codes(await login(auth_client, who, password="wrong password here")) == [
            "INVALID_CREDENTIALS"
        ]
    for who in (email, username.upper()):  # even with the right password
        assert codes(await login(auth_client, who)) == ["ACCOUNT_LOCKED"]
        assert codes(await login(auth_client, who, territory="no")) == ["ACCOUNT_LOCKED"]


async def test_concurrent_refreshes_of_one_token_yield_one_live_child(
    auth_client: httpx.AsyncClient, db: Database
) -> None:
    for territory in ("dk", "se"):
        me = await account(auth_client, db, territory)
        results = await asyncio.gather(
            *(call(auth_client, REFRESH, {"t": me["refreshToken"]}) for _ in range(5))
        )
        winners = [b for b in results if "errors" not in b]
        assert len(winners) <= 1
        assert all(codes(b) == ["UNAUTHENTICATED"] for b in results if "errors" in b)
        for body in winners:  # the reuse revoked the family: the child is dead too
            child = body["data"]["refreshSession"]
            assert codes(await call(auth_client, REFRESH, {"t": child["refreshToken"]})) == [
                "UNAUTHENTICATED"
            ]


async def test_concurrent_registrations_never_exceed_max_uses(
    auth_client: httpx.AsyncClient, db: Database
) -> None:
    for territory in ("dk", "se"):  # main server, second server
        before = await user_count(db, territory)
        token = await invite(db, territory, max_uses=3)
        results = await asyncio.gather(*(register(auth_client, token) for _ in range(6)))
        assert sum("errors" not in b for b in results) == 3
        assert sorted(c for b in results for c in codes(b)) == ["INVITATION_EXHAUSTED"] * 3
        assert await user_count(db, territory) - before == 3


async def test_a_revoked_role_stops_working_before_the_token_expires(
    auth_client: httpx.AsyncClient, db: Database
) -> None:
    """A demoted manager kept managing with their access token for its whole lifetime."""
    from tests.authkit import REFRESH as REFRESH_TOKENS

    assign = "mutation($i: RoleChangeInput!) { assignRole(input: $i) }"
    revoke = "mutation($i: RoleChangeInput!) { revokeRole(input: $i) }"
    admin = await account(auth_client, db, "global", role="global_admin")
    manager = await account(auth_client, db, "dk", role="territory_manager")
    grant = {"userId": manager["user"]["id"], "role": "TERRITORY_MANAGER", "territory": "dk"}
    listing = 'query { invitations(territory: "dk") { id } }'
    assert "errors" not in await call(auth_client, listing, token=manager["accessToken"])

    revoked = await call(auth_client, revoke, {"i": grant}, admin["accessToken"])
    assert revoked["data"] == {"revokeRole": True}
    assert codes(await call(auth_client, listing, token=manager["accessToken"])) == [
        "UNAUTHENTICATED"
    ]
    # Refreshing gives a token without the role: it works, and may no longer manage.
    renewed = (await call(auth_client, REFRESH_TOKENS, {"t": manager["refreshToken"]}))["data"][
        "refreshSession"
    ]
    assert codes(await call(auth_client, listing, token=renewed["accessToken"])) == ["FORBIDDEN"]
    assert "errors" not in await call(auth_client, "{ me { id } }", token=renewed["accessToken"])

    # Granted again: a token carrying the role is accepted again.
    assert (await call(auth_client, assign, {"i": grant}, admin["accessToken"]))["data"] == {
        "assignRole": True
    }
    again = (await call(auth_client, REFRESH_TOKENS, {"t": renewed["refreshToken"]}))["data"][
        "refreshSession"
    ]
    assert "errors" not in await call(auth_client, listing, token=again["accessToken"])
