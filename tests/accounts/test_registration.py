"""Registration over GraphQL on both servers: input rules, refused invitations, all or nothing."""

from __future__ import annotations

import asyncio
import unicodedata
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from sqlalchemy import select, text

from db.engines import Database
from db.models import invitation_tokens, users
from domain.accounts import secret_hash
from tests.authkit import (
    PASSWORD,
    VALIDATE_INVITATION,
    account,
    assert_refused,
    call,
    codes,
    expire_invitation,
    fields,
    invite,
    login,
    register,
    server_of,
    unique,
    user_count,
)

UPDATE = (
    "mutation($i: UpdateProfileInput!) { updateProfile(input: $i) { profile { displayName } } }"
)
REGISTER_FULL = """
mutation($input: RegisterInput!) { register(input: $input) { id displayName } }"""
CREATE_COMMUNITY = """
mutation($i: CreateCommunityInput!) { createCommunity(input: $i) { community { id } } }"""
GROUP = "mutation($n: String!) { createSocialGroup(input: {name: $n}) { socialGroup { id name } } }"


BOTH_SERVERS = pytest.mark.parametrize("territory", ["dk", "se"])


@BOTH_SERVERS
async def test_an_expired_invitation_creates_no_user(
    auth_client: httpx.AsyncClient, db: Database, territory: str
) -> None:
    expired = await invite(db, territory)
    await expire_invitation(db, territory, expired)
    check = await call(auth_client, VALIDATE_INVITATION, {"t": expired})
    assert check["data"]["validateInvitation"] == {"valid": False, "code": "INVITATION_EXPIRED"}
    await assert_refused(auth_client, db, territory, expired, "INVITATION_EXPIRED")


@BOTH_SERVERS
async def test_a_bound_invitation_takes_only_its_address(
    auth_client: httpx.AsyncClient, db: Database, territory: str
) -> None:
    bound = await invite(db, territory, email="someone@example.org")
    await assert_refused(
        auth_client, db, territory, bound, "INVITATION_EMAIL_MISMATCH", email="other@example.org"
    )
    # The bound address, in another case, works.
    body = await register(auth_client, bound, email="SomeOne@example.org")
    assert "errors" not in body, body


@BOTH_SERVERS
async def test_a_used_invitation_creates_no_second_user(
    auth_client: httpx.AsyncClient, db: Database, territory: str
) -> None:
    single = await invite(db, territory)
    assert "errors" not in await register(auth_client, single)
    await assert_refused(auth_client, db, territory, single, "INVITATION_EXHAUSTED")  # reused
    check = await call(auth_client, VALIDATE_INVITATION, {"t": single})
    assert check["data"]["validateInvitation"]["code"] == "INVITATION_EXHAUSTED"


@BOTH_SERVERS
async def test_unknown_and_malformed_tokens_create_no_user(
    auth_client: httpx.AsyncClient, db: Database, territory: str
) -> None:
    for bogus in (f"{territory}.{'A' * 43}", "nonsense", f"{territory}.", "xx.abc", "..", "DK.a"):
        await assert_refused(auth_client, db, territory, bogus, "INVITATION_NOT_FOUND")


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


@pytest.mark.parametrize(
    ("overrides", "code", "field"),
    [
        ({"username": "ab"}, "BAD_USER_INPUT", "username"),
        ({"email": "not-an-email"}, "BAD_USER_INPUT", "email"),
        ({"displayName": "a\nb"}, "BAD_USER_INPUT", "displayName"),
        ({"password": "short"}, "PASSWORD_POLICY", "password"),
        ({"invitationToken": "dk.nonsense"}, "INVITATION_NOT_FOUND", "invitationToken"),
        ({"email": "someone-else@example.org"}, "INVITATION_EMAIL_MISMATCH", "email"),
    ],
)
async def test_registration_refusals_name_their_field(
    auth_client: httpx.AsyncClient,
    db: Database,
    overrides: dict[str, str],
    code: str,
    field: str,
) -> None:
    token = await invite(db, "dk", email="bound@example.org")
    variables = _register_input(token, email="bound@example.org")
    variables["input"].update(overrides)
    body = await call(auth_client, REGISTER_FULL, variables)
    assert codes(body) == [code], body
    assert fields(body) == [field]
