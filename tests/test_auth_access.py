"""Roles and their audit, login throttling, password rehash, logs without secrets, global's columns,
and a permission class on every root field."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from argon2 import PasswordHasher
from sqlalchemy import select, text, update

from db.engines import Database
from db.models import audit_log, users
from domain import passwords
from graph.app import create_app
from graph.permissions import IsAuthenticated, Public
from graph.schema import schema
from tests.authkit import (
    ME,
    PASSWORD,
    REFRESH,
    account,
    call,
    codes,
    invite,
    login,
    register,
    server_of,
    unique,
)
from unityplan.settings import Settings

ASSIGN = "mutation($i: RoleChangeInput!) { assignRole(input: $i) }"
REVOKE = "mutation($i: RoleChangeInput!) { revokeRole(input: $i) }"


async def actions_since(db: Database, since: int) -> list[str]:
    async with db.connect("main") as conn:
        rows = await conn.execute(
            select(audit_log.c.action).where(audit_log.c.id > since).order_by(audit_log.c.id)
        )
        return list(rows.scalars())


async def last_id(db: Database) -> int:
    async with db.connect("main") as conn:
        return int(
            (
                await conn.execute(text("SELECT coalesce(max(id), 0) FROM global.audit_log"))
            ).scalar_one()
        )


async def test_roles_assigned_and_revoked_with_audit(
    auth_client: httpx.AsyncClient, db: Database
) -> None:
    manager = await account(auth_client, db, "dk", role="territory_manager")
    member = await account(auth_client, db, "dk")
    grant = {"userId": member["user"]["id"], "role": "MODERATOR", "territory": "dk"}

    # A member cannot grant; a manager of another territory cannot grant in dk.
    assert codes(await call(auth_client, ASSIGN, {"i": grant}, member["accessToken"])) == [
        "FORBIDDEN"
    ]
    outsider = await account(auth_client, db, "no", role="territory_manager")
    assert codes(await call(auth_client, ASSIGN, {"i": grant}, outsider["accessToken"])) == [
        "FORBIDDEN"
    ]
    # A manager cannot make managers or admins.
    for role, territory in (("TERRITORY_MANAGER", "dk"), ("GLOBAL_ADMIN", None)):
        body = await call(
            auth_client,
            ASSIGN,
            {"i": {**grant, "role": role, "territory": territory}},
            manager["accessToken"],
        )
        assert codes(body) == ["FORBIDDEN"]

    before = await last_id(db)
    body = await call(auth_client, ASSIGN, {"i": grant}, manager["accessToken"])
    assert body["data"] == {"assignRole": True}
    again = await call(auth_client, ASSIGN, {"i": grant}, manager["accessToken"])
    assert again["data"] == {"assignRole": False}  # idempotent, not audited twice
    assert await actions_since(db, before) == ["role.assigned"]

    # The new role is in the next access token, after a refresh.
    renewed = (await call(auth_client, REFRESH, {"t": member["refreshToken"]}))["data"][
        "refreshSession"
    ]
    me = await call(auth_client, ME, token=renewed["accessToken"])
    assert {"role": "MODERATOR", "territory": "dk"} in me["data"]["me"]["roles"], (me, grant)
    # A moderator reads accounts of their territory, the manager too.
    node = "query($id: ID!) { node(id: $id) { ... on User { username } } }"
    body = await call(auth_client, node, {"id": manager["user"]["id"]}, renewed["accessToken"])
    assert body["data"]["node"]["username"] == manager["user"]["username"]

    before = await last_id(db)
    body = await call(auth_client, REVOKE, {"i": grant}, manager["accessToken"])
    assert body["data"] == {"revokeRole": True}
    assert await actions_since(db, before) == ["role.revoked"]
    bad = await call(
        auth_client, ASSIGN, {"i": {**grant, "territory": None}}, manager["accessToken"]
    )
    assert codes(bad) == ["BAD_USER_INPUT"]


async def test_global_admin_from_the_global_territory(
    auth_client: httpx.AsyncClient, db: Database
) -> None:
    admin = await account(auth_client, db, "global", role="global_admin")
    me = await call(auth_client, ME, token=admin["accessToken"])
    assert {"role": "GLOBAL_ADMIN", "territory": None} in me["data"]["me"]["roles"]
    member = await account(auth_client, db, "se")
    body = await call(
        auth_client,
        ASSIGN,
        {"i": {"userId": member["user"]["id"], "role": "TERRITORY_MANAGER", "territory": "se"}},
        admin["accessToken"],
    )
    assert body["data"] == {"assignRole": True}, body
    listed = await call(
        auth_client, 'query { invitations(territory: "se") { id } }', token=admin["accessToken"]
    )
    assert "errors" not in listed


async def test_account_locks_after_repeated_failures(
    auth_client: httpx.AsyncClient, db: Database
) -> None:
    name = unique()
    assert "errors" not in await register(auth_client, await invite(db, "dk"), name)
    before = await last_id(db)
    for _ in range(3):  # auth_settings: 3 failures per account
        assert codes(await login(auth_client, name, "wrong password here!")) == [
            "INVALID_CREDENTIALS"
        ]
    locked = await login(auth_client, name)  # even with the right password
    assert codes(locked) == ["ACCOUNT_LOCKED"]
    actions = await actions_since(db, before)
    assert actions.count("auth.login_failed") == 3
    assert "auth.login_throttled" in actions
    # Another account is not affected.
    other = unique()
    assert "errors" not in await register(auth_client, await invite(db, "dk"), other)
    assert "errors" not in await login(auth_client, other)


@pytest.fixture
async def strict_ip_client(
    auth_settings: Settings, db: Database
) -> AsyncIterator[httpx.AsyncClient]:
    settings = auth_settings.model_copy(
        update={
            "redis_key_prefix": auth_settings.redis_key_prefix + "ip:",
            "login_max_failures_per_ip": 4,
            "login_max_failures_per_account": 100,
        }
    )
    app = create_app(settings, db)
    transport = httpx.ASGITransport(app=app, client=("198.51.100.7", 40000))
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
            yield c
    finally:
        await app.state.redis.aclose()


async def test_client_ip_is_rate_limited(
    strict_ip_client: httpx.AsyncClient, auth_client: httpx.AsyncClient, db: Database
) -> None:
    name = unique()
    assert "errors" not in await register(auth_client, await invite(db, "no"), name)
    for _ in range(4):  # four different accounts from one address
        assert codes(await login(strict_ip_client, unique(), PASSWORD)) == ["INVALID_CREDENTIALS"]
    assert codes(await login(strict_ip_client, name)) == ["RATE_LIMITED"]
    # The account itself is fine from elsewhere.
    assert "errors" not in await login(auth_client, name)


async def test_login_throttling_sees_clients_behind_a_trusted_proxy(
    auth_settings: Settings, auth_client: httpx.AsyncClient, db: Database
) -> None:
    """Behind a proxy in TRUSTED_PROXIES, each forwarded client has its own failure budget."""
    settings = auth_settings.model_copy(
        update={
            "redis_key_prefix": auth_settings.redis_key_prefix + "proxy:",
            "login_max_failures_per_ip": 2,
            "login_max_failures_per_account": 100,
            "trusted_proxies": ["198.51.100.9"],
        }
    )
    app = create_app(settings, db)
    transport = httpx.ASGITransport(app=app, client=("198.51.100.9", 40000))
    name = unique()
    assert "errors" not in await register(auth_client, await invite(db, "no"), name)
    try:
        async with (
            httpx.AsyncClient(
                transport=transport,
                base_url="http://testserver",
                headers={"X-Forwarded-For": "203.0.113.1"},
            ) as first,
            httpx.AsyncClient(
                transport=transport,
                base_url="http://testserver",
                headers={"X-Forwarded-For": "203.0.113.2"},
            ) as second,
        ):
            for _ in range(2):
                assert codes(await login(first, unique(), PASSWORD)) == ["INVALID_CREDENTIALS"]
            assert codes(await login(first, name)) == ["RATE_LIMITED"]
            assert "errors" not in await login(second, name)
    finally:
        await app.state.redis.aclose()


async def test_login_rehashes_outdated_password_hashes(
    auth_client: httpx.AsyncClient, db: Database
) -> None:
    name = unique()
    assert "errors" not in await register(auth_client, await invite(db, "se"), name)
    weak = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1)
    old_hash = passwords.hash_password(PASSWORD, weak)
    assert passwords.needs_rehash(old_hash)
    async with db.transaction(server_of("se"), "se") as conn:
        await conn.execute(
            update(users).where(users.c.username == name).values(password_hash=old_hash)
        )
    assert "errors" not in await login(auth_client, name, territory="se")
    async with db.connect(server_of("se"), "se") as conn:
        stored = (
            await conn.execute(select(users.c.password_hash).where(users.c.username == name))
        ).scalar_one()
    assert stored != old_hash
    assert not passwords.needs_rehash(stored)
    assert passwords.verify_password(stored, PASSWORD)


async def test_no_secret_in_any_log_line_or_error(
    auth_client: httpx.AsyncClient, db: Database, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    secrets: list[str] = []
    responses: list[dict[str, Any]] = []

    token = await invite(db, "dk", max_uses=2)
    secrets.append(token)
    name = unique()
    password = "Sup3r secret passphrase " + unique()
    secrets.append(password)
    responses.append(await register(auth_client, token, name, password=password))
    responses.append(await register(auth_client, token, name, password=password))  # taken
    responses.append(await register(auth_client, token + "x", unique(), password=password))
    logged = await login(auth_client, name, password)
    session = logged["data"]["login"]
    secrets += [session["accessToken"], session["refreshToken"]]
    responses.append(await login(auth_client, name, password + "!"))
    responses.append(await call(auth_client, ME, token=session["accessToken"] + "x"))
    refreshed = await call(auth_client, REFRESH, {"t": session["refreshToken"]})
    secrets += [
        refreshed["data"]["refreshSession"]["accessToken"],
        refreshed["data"]["refreshSession"]["refreshToken"],
    ]
    responses.append(await call(auth_client, REFRESH, {"t": session["refreshToken"]}))  # reuse
    async with db.connect("main", "dk") as conn:
        stored = (
            await conn.execute(select(users.c.password_hash).where(users.c.username == name))
        ).scalar_one()
    secrets.append(stored)
    from domain.accounts import secret_hash

    for value in (token, session["refreshToken"]):
        digest = secret_hash(value)
        secrets += [digest.hex(), repr(digest)]

    errors = " ".join(str(r.get("errors", "")) for r in responses)
    assert "errors" in str(responses)  # the failures above did fail
    for secret in secrets:
        assert secret not in caplog.text
        assert secret not in errors
    assert "$argon2" not in caplog.text
    assert "$argon2" not in errors


GLOBAL_COLUMNS = {
    "alembic_version": {"version_num"},
    "territories": {
        "id",
        "name",
        "kind",
        "parent_id",
        "db_server",
        "status",
        "created_at",
        "updated_at",
    },
    "user_identities": {"identity_hash", "territory_id", "created_at"},
    "sessions": {
        "id",
        "identity_hash",
        "family_id",
        "refresh_token_hash",
        "created_at",
        "expires_at",
        "rotated_at",
        "revoked_at",
    },
    "audit_log": {
        "id",
        "occurred_at",
        "action",
        "actor_identity_hash",
        "territory_id",
        "target",
        "details",
    },
    "territory_managers": {"identity_hash", "territory_id", "granted_by", "created_at"},
    # GraphQL operation texts by hash (trusted documents): schema text, never user data.
    "trusted_documents": {"sha256", "body", "created_at"},
    # Events of global-only changes; the envelope holds ids and enums only (domain/events.py).
    "outbox": {
        "id",
        "subject",
        "envelope",
        "created_at",
        "sent_at",
        "attempts",
        "next_attempt_at",
        "last_error",
    },
    "role_assignments": {
        "id",
        "identity_hash",
        "role",
        "territory_id",
        "granted_by",
        "created_at",
        "revoked_at",
        "revoked_by",
    },
}


async def test_global_holds_no_personal_data(db: Database) -> None:
    """Every column of `global` is on this allow-list; a new one must be reviewed and added.

    Allowed are ids, territory ids, keyed hashes, timestamps and codes: never a name, email,
    address, user agent, password or token.
    """
    async with db.connect("main") as conn:
        rows = await conn.execute(
            text(
                "SELECT table_name, column_name FROM information_schema.columns "
                "WHERE table_schema = 'global'"
            )
        )
        found: dict[str, set[str]] = {}
        for table_name, column_name in rows:
            found.setdefault(table_name, set()).add(column_name)
    unexpected = {
        f"{t}.{c}" for t, cols in found.items() for c in cols - GLOBAL_COLUMNS.get(t, set())
    }
    assert unexpected == set(), f"review for personal data, then allow-list: {unexpected}"
    assert set(found) == set(GLOBAL_COLUMNS)


def test_every_root_field_declares_its_permission() -> None:
    roots = [schema.schema_converter.type_map[name] for name in ("Query", "Mutation")]
    missing = []
    for root in roots:
        definition = root.definition
        for field in definition.fields:  # type: ignore[union-attr]
            if not field.permission_classes:
                missing.append(f"{definition.name}.{field.python_name}")
    assert missing == [], f"root fields without a permission class: {missing}"


def test_public_and_private_roots() -> None:
    by_name = {}
    for name in ("Query", "Mutation"):
        for field in schema.schema_converter.type_map[name].definition.fields:  # type: ignore[union-attr]
            by_name[field.python_name] = set(field.permission_classes)
    assert Public in by_name["territories"]
    assert IsAuthenticated in by_name["me"]
    assert Public in by_name["login"]


async def test_statements_do_not_grow_with_invitation_uses(
    auth_client: httpx.AsyncClient, db: Database, statements: Any
) -> None:
    manager = await account(auth_client, db, "c_dk_aarhus", role="territory_manager")
    query = (
        'query { invitations(territory: "c_dk_aarhus", first: 50) '
        "{ id useCount uses { usedAt user { username territory { code } } } } }"
    )
    counts = []
    for uses in (1, 6):
        token = await invite(db, "c_dk_aarhus", max_uses=uses)
        for _ in range(uses):
            assert "errors" not in await register(auth_client, token)
        statements.statements.clear()
        body = await call(auth_client, query, token=manager["accessToken"])
        assert "errors" not in body, body
        assert max(i["useCount"] for i in body["data"]["invitations"]) == uses
        counts.append(statements.count)
    assert counts[0] == counts[1], counts
