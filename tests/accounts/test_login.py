"""Login over GraphQL: throttling per account and per client, rehashing, refused identifiers."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from argon2 import PasswordHasher
from pydantic import ValidationError
from sqlalchemy import select, update

from db.engines import Database
from db.models import users
from domain import passwords
from graph.server.app import create_app
from tests.authkit import (
    PASSWORD,
    account,
    audit_actions_since,
    call,
    codes,
    fields,
    invite,
    last_audit_id,
    login,
    register,
    server_of,
    unique,
)
from unityplan.settings import Settings


async def test_account_locks_after_repeated_failures(
    auth_client: httpx.AsyncClient, db: Database
) -> None:
    name = unique()
    assert "errors" not in await register(auth_client, await invite(db, "dk"), name)
    before = await last_audit_id(db)
    for _ in range(3):  # auth_settings: 3 failures per account
        assert codes(await login(auth_client, name, "wrong password here!")) == [
            "INVALID_CREDENTIALS"
        ]
    locked = await login(auth_client, name)  # even with the right password
    assert codes(locked) == ["ACCOUNT_LOCKED"]
    actions = await audit_actions_since(db, before)
    assert actions.count("auth.login_failed") == 3
    assert "auth.login_throttled" in actions
    # Another account is not affected.
    other = unique()
    assert "errors" not in await register(auth_client, await invite(db, "dk"), other)
    assert "errors" not in await login(auth_client, other)


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
    auth_client: httpx.AsyncClient, auth_app: Any, db: Database
) -> None:
    hasher = auth_app.state.auth.config.hasher  # the suite's: PASSWORD_HASHING=minimal
    name = unique()
    assert "errors" not in await register(auth_client, await invite(db, "se"), name)
    weak = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1)
    old_hash = passwords.hash_password(PASSWORD, weak)
    assert passwords.needs_rehash(old_hash, hasher)
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
    assert not passwords.needs_rehash(stored, hasher)
    assert passwords.verify_password(stored, PASSWORD)


async def test_new_hashes_use_the_configured_cost(
    auth_client: httpx.AsyncClient, db: Database
) -> None:
    """The suite runs at the minimal cost; the standard one is tested in test_passwords_rules."""
    name = unique()
    assert "errors" not in await register(auth_client, await invite(db, "dk"), name)
    async with db.connect(server_of("dk"), "dk") as conn:
        stored = (
            await conn.execute(select(users.c.password_hash).where(users.c.username == name))
        ).scalar_one()
    assert stored.startswith("$argon2id$v=19$m=8,t=1,p=1$")
    assert "errors" not in await login(auth_client, name)
    assert codes(await login(auth_client, unique())) == ["INVALID_CREDENTIALS"]  # the dummy


def test_minimal_hashing_is_for_tests_only() -> None:
    assert Settings().password_hashing == "standard"
    assert Settings(unityplan_env="test", password_hashing="minimal").password_hashing == "minimal"
    for env in ("development", "production"):
        with pytest.raises(ValidationError, match="only for UNITYPLAN_ENV=test"):
            Settings(unityplan_env=env, password_hashing="minimal", identity_hash_key="k")


async def test_login_identifier_with_control_characters(
    auth_client: httpx.AsyncClient,
) -> None:
    for identifier in ("a\x00b", "a\x00b@example.org", "   "):
        assert codes(await login(auth_client, identifier)) == ["INVALID_CREDENTIALS"]


async def test_login_names_a_malformed_territory(auth_client: httpx.AsyncClient) -> None:
    body = await call(
        auth_client,
        "mutation($i: LoginInput!) { login(input: $i) { accessToken } }",
        {"i": {"identifier": "someone", "password": PASSWORD, "territory": "DK!"}},
    )
    assert codes(body) == ["BAD_USER_INPUT"]
    assert fields(body) == ["territory"]
