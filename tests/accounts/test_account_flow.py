"""Invitation -> register -> login -> me -> refresh -> logout, over HTTP, on both servers."""

from __future__ import annotations

import asyncio
import uuid

import httpx
import pytest
from sqlalchemy import select

from db.engines import Database
from db.models import invitation_tokens, invitation_uses, sessions, users
from domain.accounts import identity_hash
from graph.ids import decode
from tests.authkit import (
    LOGOUT,
    ME,
    PASSWORD,
    REFRESH,
    account,
    audit_actions_since,
    bootstrap,
    call,
    cli,
    codes,
    last_audit_id,
    login,
    register,
    server_of,
    unique,
    user_count,
)
from unityplan.settings import Settings


@pytest.mark.parametrize("territory", ["dk", "se"])  # main server, second server
async def test_bootstrap_register_login_me_refresh_logout(
    auth_client: httpx.AsyncClient, db: Database, territory: str
) -> None:
    before_audit = await last_audit_id(db)
    token = await bootstrap(db, territory)

    check = await call(
        auth_client,
        "query($t: String!) { validateInvitation(token: $t) { valid code territory } }",
        {"t": token},
    )
    assert check["data"]["validateInvitation"] == {
        "valid": True,
        "code": None,
        "territory": territory,
    }

    username = unique()
    body = await register(auth_client, token, username, email=f"{username}@Example.org")
    assert "errors" not in body, body
    user = body["data"]["register"]
    assert user["username"] == username
    assert user["territory"] == {"code": territory}

    # Login by email (any case), without naming the territory.
    logged = await login(auth_client, f"{username}@example.ORG")
    assert "errors" not in logged, logged
    first = logged["data"]["login"]
    assert first["user"]["id"] == user["id"]

    me = await call(auth_client, ME, token=first["accessToken"])
    assert "errors" not in me, me
    assert me["data"]["me"]["username"] == username
    # The bootstrap invitation makes a territory manager (and every user is a member).
    assert sorted((r["role"], r["territory"]) for r in me["data"]["me"]["roles"]) == [
        ("MEMBER", territory),
        ("TERRITORY_MANAGER", territory),
    ]

    refreshed = await call(auth_client, REFRESH, {"t": first["refreshToken"]})
    assert "errors" not in refreshed, refreshed
    second = refreshed["data"]["refreshSession"]
    assert second["refreshToken"] != first["refreshToken"]
    assert second["accessToken"] != first["accessToken"]
    me = await call(auth_client, ME, token=second["accessToken"])
    assert me["data"]["me"]["id"] == user["id"]

    out = await call(auth_client, LOGOUT, {"all": False}, token=second["accessToken"])
    assert out["data"]["logout"]["endedSessions"] == 1

    after = await call(auth_client, REFRESH, {"t": second["refreshToken"]})
    assert codes(after) == ["UNAUTHENTICATED"]
    # The access token of the ended session stops working before it expires.
    me = await call(auth_client, ME, token=second["accessToken"])
    assert codes(me) == ["UNAUTHENTICATED"]

    actions = await audit_actions_since(db, before_audit)
    assert actions[0] == "invitation.created"
    assert "user.registered" in actions
    assert "auth.login_succeeded" in actions
    assert actions[-1] == "auth.logout"

    # Usage tracking: who used the invitation, and when.
    async with db.connect(server_of(territory), territory) as conn:
        rows = (
            await conn.execute(
                select(invitation_uses.c.user_id, invitation_uses.c.used_at, users.c.username)
                .join(users, users.c.id == invitation_uses.c.user_id)
                .join(invitation_tokens, invitation_tokens.c.id == invitation_uses.c.invitation_id)
                .where(users.c.username == username)
            )
        ).all()
    assert len(rows) == 1
    assert rows[0].used_at is not None


async def test_replayed_refresh_token_revokes_the_family(
    auth_client: httpx.AsyncClient, db: Database
) -> None:
    token = await bootstrap(db, "no", "--role", "member")
    username = unique()
    assert "errors" not in await register(auth_client, token, username)
    first = (await login(auth_client, username))["data"]["login"]
    other = (await login(auth_client, username))["data"]["login"]  # a second, separate session

    second = (await call(auth_client, REFRESH, {"t": first["refreshToken"]}))["data"][
        "refreshSession"
    ]
    before_audit = await last_audit_id(db)
    replay = await call(auth_client, REFRESH, {"t": first["refreshToken"]})
    assert codes(replay) == ["UNAUTHENTICATED"]
    assert "already used" in replay["errors"][0]["message"]
    assert await audit_actions_since(db, before_audit) == ["auth.refresh_reused"]

    # The whole family is gone: the latest refresh token and its access token too.
    assert codes(await call(auth_client, REFRESH, {"t": second["refreshToken"]})) == [
        "UNAUTHENTICATED"
    ]
    assert codes(await call(auth_client, ME, token=second["accessToken"])) == ["UNAUTHENTICATED"]
    # Another session of the same account is untouched.
    assert "errors" not in await call(auth_client, ME, token=other["accessToken"])
    assert "errors" not in await call(auth_client, REFRESH, {"t": other["refreshToken"]})


async def test_logout_all_sessions(
    auth_client: httpx.AsyncClient, db: Database, auth_settings: Settings
) -> None:
    token = await bootstrap(db, "fn_sami", "--role", "member")
    username = unique()
    assert "errors" not in await register(auth_client, token, username)
    a = (await login(auth_client, username, territory="fn_sami"))["data"]["login"]
    b = (await login(auth_client, username, territory="fn_sami"))["data"]["login"]
    out = await call(auth_client, LOGOUT, {"all": True}, token=a["accessToken"])
    assert out["data"]["logout"]["endedSessions"] == 2
    for session in (a, b):
        assert codes(await call(auth_client, REFRESH, {"t": session["refreshToken"]})) == [
            "UNAUTHENTICATED"
        ]
        assert codes(await call(auth_client, ME, token=session["accessToken"])) == [
            "UNAUTHENTICATED"
        ]
    user_key = uuid.UUID(decode(a["user"]["id"]).key)
    ihash = identity_hash(auth_settings.identity_key(), "fn_sami", user_key)
    async with db.connect("main") as conn:
        rows = (
            await conn.execute(
                select(sessions.c.revoked_at).where(sessions.c.identity_hash == ihash)
            )
        ).all()
    assert len(rows) == 2
    assert all(r.revoked_at is not None for r in rows)


async def test_anonymous_me_and_logout_are_unauthenticated(
    auth_client: httpx.AsyncClient,
) -> None:
    assert codes(await call(auth_client, ME)) == ["UNAUTHENTICATED"]
    assert codes(await call(auth_client, LOGOUT, {"all": False})) == ["UNAUTHENTICATED"]


async def test_cli_bootstrap_options_and_errors(
    auth_client: httpx.AsyncClient, db: Database
) -> None:
    email = f"{unique()}@example.org"
    token = await bootstrap(
        db, "c_dk_aarhus", "--email", email, "--uses", "2", "--role", "moderator"
    )
    check = await call(
        auth_client,
        "query($t: String!) { validateInvitation(token: $t) { valid emailRequired } }",
        {"t": token},
    )
    assert check["data"]["validateInvitation"] == {"valid": True, "emailRequired": True}
    refused = (
        ("DK",),
        ("dk", "--role", "emperor"),
        ("dk", "--uses", "0"),
        ("dk", "--role", "global_admin"),
        ("is",),  # a real country, not in this federation
    )
    # Side by side: each is a process start (most of this test's time) and none writes.
    results = await asyncio.gather(*(cli(db, "invitation", "bootstrap", *a) for a in refused))
    for args, (code, out, err) in zip(refused, results, strict=True):
        assert code == 2, (args, out, err)
        assert out == ""
        assert "error:" in err
        assert "Traceback" not in err


async def test_refresh_with_garbage_is_unauthenticated(auth_client: httpx.AsyncClient) -> None:
    for value in ("", "x", "y" * 500, str(uuid.uuid4())):
        assert codes(await call(auth_client, REFRESH, {"t": value})) == ["UNAUTHENTICATED"]


async def test_wrong_password_and_unknown_user_look_the_same(
    auth_client: httpx.AsyncClient, db: Database
) -> None:
    token = await bootstrap(db, "dk", "--role", "member")
    username = unique()
    assert "errors" not in await register(auth_client, token, username)
    wrong = await login(auth_client, username, "not the password at all")
    unknown = await login(auth_client, unique(), PASSWORD)
    assert codes(wrong) == codes(unknown) == ["INVALID_CREDENTIALS"]
    assert wrong["errors"][0]["message"] == unknown["errors"][0]["message"]
    assert await user_count(db, "dk") >= 1


async def test_concurrent_refreshes_of_one_token_yield_one_live_child(
    auth_client: httpx.AsyncClient, db: Database
) -> None:
    for territory in ("dk", "se"):
        me = await account(auth_client, db, territory)
        results = await asyncio.gather(
            *(call(auth_client, REFRESH, {"t": me["refreshToken"]}) for _ in range(5))
        )
        winners = [b for b in results if "errors" not in b]
        losers = [b for b in results if "errors" in b]
        # The refresh row is locked: exactly one caller rotates it, the next one sees a reuse.
        assert len(winners) == 1, results
        assert [codes(b) for b in losers] == [["UNAUTHENTICATED"]] * 4
        assert "This refresh token was already used; the session is ended." in [
            b["errors"][0]["message"] for b in losers
        ]
        # The reuse revoked the family: the winner's child is dead too.
        child = winners[0]["data"]["refreshSession"]
        assert codes(await call(auth_client, REFRESH, {"t": child["refreshToken"]})) == [
            "UNAUTHENTICATED"
        ]
