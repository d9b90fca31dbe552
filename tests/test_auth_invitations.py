"""Invitations that must not register anyone, group invitations, and all-or-nothing registration."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select, text, update

from db.engines import Database
from db.models import invitation_tokens, user_identities, users
from domain.accounts import secret_hash
from tests.authkit import (
    CREATE_INVITATION,
    PASSWORD,
    account,
    call,
    codes,
    invite,
    register,
    server_of,
    unique,
    user_count,
)

VALIDATE = "query($t: String!) { validateInvitation(token: $t) { valid code } }"


async def identity_count(db: Database) -> int:
    async with db.connect("main") as conn:
        query = select(func.count()).select_from(user_identities)
        return int((await conn.execute(query)).scalar_one())


async def expire(db: Database, territory: str, token: str) -> None:
    async with db.transaction(server_of(territory), territory) as conn:
        await conn.execute(
            update(invitation_tokens)
            .where(invitation_tokens.c.token_hash == secret_hash(token))
            .values(expires_at=func.now() - text("interval '1 minute'"))
        )


async def assert_refused(
    client: httpx.AsyncClient, db: Database, territory: str, token: str, code: str, **kw: Any
) -> None:
    users_before, identities_before = await user_count(db, territory), await identity_count(db)
    body = await register(client, token, **kw)
    assert codes(body) == [code], body
    assert await user_count(db, territory) == users_before
    assert await identity_count(db) == identities_before


@pytest.mark.parametrize("territory", ["dk", "se"])
async def test_refused_invitations_create_no_user(
    auth_client: httpx.AsyncClient, db: Database, territory: str
) -> None:
    expired = await invite(db, territory)
    await expire(db, territory, expired)
    assert (await call(auth_client, VALIDATE, {"t": expired}))["data"]["validateInvitation"] == {
        "valid": False,
        "code": "INVITATION_EXPIRED",
    }
    await assert_refused(auth_client, db, territory, expired, "INVITATION_EXPIRED")

    bound = await invite(db, territory, email="someone@example.org")
    await assert_refused(
        auth_client, db, territory, bound, "INVITATION_EMAIL_MISMATCH", email="other@example.org"
    )
    # The bound address, in another case, works.
    body = await register(auth_client, bound, email="SomeOne@example.org")
    assert "errors" not in body, body

    single = await invite(db, territory)
    assert "errors" not in await register(auth_client, single)
    await assert_refused(auth_client, db, territory, single, "INVITATION_EXHAUSTED")  # reused
    assert (await call(auth_client, VALIDATE, {"t": single}))["data"]["validateInvitation"][
        "code"
    ] == "INVITATION_EXHAUSTED"

    for bogus in (f"{territory}.{'A' * 43}", "nonsense", f"{territory}.", "xx.abc", "..", "DK.a"):
        await assert_refused(auth_client, db, territory, bogus, "INVITATION_NOT_FOUND")


async def test_revoked_invitation_and_its_audit(
    auth_client: httpx.AsyncClient, db: Database
) -> None:
    manager = await account(auth_client, db, "no", role="territory_manager")
    created = await call(
        auth_client,
        CREATE_INVITATION,
        {"input": {"territory": "no", "maxUses": 3}},
        manager["accessToken"],
    )
    assert "errors" not in created, created
    token = created["data"]["createInvitation"]["token"]
    invitation_id = created["data"]["createInvitation"]["invitation"]["id"]
    revoked = await call(
        auth_client,
        "mutation($id: ID!) { revokeInvitation(id: $id) { revokedAt } }",
        {"id": invitation_id},
        manager["accessToken"],
    )
    assert revoked["data"]["revokeInvitation"]["revokedAt"] is not None
    await assert_refused(auth_client, db, "no", token, "INVITATION_REVOKED")
    async with db.connect("main") as conn:
        actions = (
            await conn.execute(
                text("SELECT action FROM global.audit_log WHERE target = :t ORDER BY id"),
                {"t": invitation_id and _key(invitation_id)},
            )
        ).scalars()
        assert list(actions) == ["invitation.created", "invitation.revoked"]
    # A member of the territory may not revoke; an outsider learns nothing.
    member = await account(auth_client, db, "no")
    body = await call(
        auth_client,
        "mutation($id: ID!) { revokeInvitation(id: $id) { revokedAt } }",
        {"id": invitation_id},
        member["accessToken"],
    )
    assert codes(body) == ["NOT_FOUND"]


def _key(global_id: str) -> str:
    import base64

    return base64.urlsafe_b64decode(global_id + "==").decode().split(":")[2]


async def test_group_invitation_tracks_who_and_when(
    auth_client: httpx.AsyncClient, db: Database
) -> None:
    manager = await account(auth_client, db, "se", role="territory_manager")
    created = await call(
        auth_client,
        CREATE_INVITATION,
        {"input": {"territory": "se", "maxUses": 2, "role": "CONTENT_CREATOR"}},
        manager["accessToken"],
    )
    token = created["data"]["createInvitation"]["token"]
    names = [unique(), unique()]
    for name in names:
        assert "errors" not in await register(auth_client, token, name)
    await assert_refused(auth_client, db, "se", token, "INVITATION_EXHAUSTED")
    listed = await call(
        auth_client,
        'query { invitations(territory: "se", first: 5) '
        "{ id maxUses useCount role uses { usedAt user { username } } } }",
        token=manager["accessToken"],
    )
    assert "errors" not in listed, listed
    (mine,) = [
        i
        for i in listed["data"]["invitations"]
        if i["id"] == created["data"]["createInvitation"]["invitation"]["id"]
    ]
    assert mine["useCount"] == 2
    assert mine["role"] == "CONTENT_CREATOR"
    assert [u["user"]["username"] for u in mine["uses"]] == names
    assert all(u["usedAt"] for u in mine["uses"])


async def test_manager_may_not_invite_managers_or_admins(
    auth_client: httpx.AsyncClient, db: Database
) -> None:
    manager = await account(auth_client, db, "dk", role="territory_manager")
    for role in ("TERRITORY_MANAGER", "GLOBAL_ADMIN"):
        body = await call(
            auth_client,
            CREATE_INVITATION,
            {"input": {"territory": "dk", "role": role}},
            manager["accessToken"],
        )
        assert codes(body) in (["FORBIDDEN"], ["BAD_USER_INPUT"]), body
    for bad in ({"maxUses": 0}, {"expiresInHours": 0}, {"email": "not-an-email"}):
        body = await call(
            auth_client,
            CREATE_INVITATION,
            {"input": {"territory": "dk", **bad}},
            manager["accessToken"],
        )
        assert codes(body) == ["BAD_USER_INPUT"], (bad, body)


@pytest.mark.parametrize(
    ("username", "password", "code"),
    [
        ("ab", PASSWORD, "BAD_USER_INPUT"),
        ("has space", PASSWORD, "BAD_USER_INPUT"),
        ("fine_name", "short", "PASSWORD_POLICY"),
        ("fine_name", "a" * 20, "PASSWORD_POLICY"),
        ("fine_name", "x fine_name password", "PASSWORD_POLICY"),
        ("fine_name", "p" * 300, "PASSWORD_POLICY"),
    ],
)
async def test_registration_input_rules(
    auth_client: httpx.AsyncClient, db: Database, username: str, password: str, code: str
) -> None:
    token = await invite(db, "dk")
    await assert_refused(auth_client, db, "dk", token, code, username=username, password=password)
    # The invitation is still usable after a refused attempt.
    assert "errors" not in await register(auth_client, token)


async def test_taken_username_or_email(auth_client: httpx.AsyncClient, db: Database) -> None:
    name = unique()
    assert "errors" not in await register(auth_client, await invite(db, "dk"), name)
    token = await invite(db, "dk")
    await assert_refused(auth_client, db, "dk", token, "ALREADY_EXISTS", username=name.upper())
    await assert_refused(
        auth_client, db, "dk", token, "ALREADY_EXISTS", email=f"{name}@EXAMPLE.org"
    )
    # The same username in another territory is another person.
    assert "errors" not in await register(auth_client, await invite(db, "no"), name)


@pytest.fixture
async def failing_global_insert(db: Database) -> AsyncIterator[None]:
    """Make every insert into global.user_identities fail, for real, in the database."""
    async with db.transaction("main") as conn:
        await conn.execute(
            text(
                "CREATE FUNCTION global.test_refuse() RETURNS trigger LANGUAGE plpgsql AS "
                "$$ BEGIN RAISE EXCEPTION 'refused by test'; END $$"
            )
        )
        await conn.execute(
            text(
                "CREATE TRIGGER test_refuse BEFORE INSERT ON global.user_identities "
                "FOR EACH ROW EXECUTE FUNCTION global.test_refuse()"
            )
        )
    try:
        yield
    finally:
        async with db.transaction("main") as conn:
            await conn.execute(text("DROP TRIGGER test_refuse ON global.user_identities"))
            await conn.execute(text("DROP FUNCTION global.test_refuse()"))


@pytest.mark.parametrize("territory", ["dk", "se"])
async def test_global_failure_leaves_no_user(
    auth_client: httpx.AsyncClient,
    db: Database,
    territory: str,
    failing_global_insert: None,
    caplog: pytest.LogCaptureFixture,
) -> None:
    token = await invite(db, territory)
    name = unique()
    await assert_refused(auth_client, db, territory, token, "INTERNAL_SERVER_ERROR", username=name)
    async with db.connect(server_of(territory), territory) as conn:
        use_count = (
            await conn.execute(
                select(invitation_tokens.c.use_count).where(
                    invitation_tokens.c.token_hash == secret_hash(token)
                )
            )
        ).scalar_one()
        leftover = await conn.execute(select(users.c.id).where(users.c.username == name))
        assert leftover.all() == []
    assert use_count == 0
    assert token not in caplog.text
    assert PASSWORD not in caplog.text
    assert "$argon2" not in caplog.text


@pytest.fixture
async def failing_territory_commit(db: Database) -> AsyncIterator[None]:
    """A deferred constraint trigger on se's users: the territory fails at COMMIT, after global."""
    schema = "territory_se"
    async with db.transaction("second") as conn:
        await conn.execute(
            text(
                f"CREATE FUNCTION {schema}.test_refuse() RETURNS trigger LANGUAGE plpgsql AS "
                "$$ BEGIN RAISE EXCEPTION 'refused at commit by test'; END $$"
            )
        )
        await conn.execute(
            text(
                f"CREATE CONSTRAINT TRIGGER test_refuse AFTER INSERT ON {schema}.users "
                "DEFERRABLE INITIALLY DEFERRED "
                f"FOR EACH ROW EXECUTE FUNCTION {schema}.test_refuse()"
            )
        )
    try:
        yield
    finally:
        async with db.transaction("second") as conn:
            await conn.execute(text(f"DROP TRIGGER test_refuse ON {schema}.users"))
            await conn.execute(text(f"DROP FUNCTION {schema}.test_refuse()"))


async def test_territory_commit_failure_is_compensated_in_global(
    auth_client: httpx.AsyncClient, db: Database, failing_territory_commit: None
) -> None:
    """se lives on the second server: global commits first, then se fails; global is undone."""
    token = await invite(db, "se")
    await assert_refused(auth_client, db, "se", token, "INTERNAL_SERVER_ERROR")
