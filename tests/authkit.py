"""Helpers of the identity and access tests: invitations, accounts and calls with a token."""

from __future__ import annotations

import asyncio
import json
import os
import sys
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import func, select, text, update

from db import badges as badge_db
from db.accounts import active_territory
from db.badges import AwardRecord
from db.engines import Database
from db.invitations import create_invitation
from db.models import audit_log, invitation_tokens, user_identities, users
from domain.accounts import secret_hash
from domain.badges import GLOBAL_HOME, BadgeLevel, BadgeRef, Permission
from domain.roles import Role
from graph import ids
from tests.conftest import CHECKOUT, MAIN_DSN, ON_SECOND

CLI = str(Path(sys.executable).parent / "unityplan")
PASSWORD = "a long enough passphrase 42"

REGISTER = """
mutation($input: RegisterInput!) {
  register(input: $input) { id username email displayName territory { code } }
}"""
LOGIN = """
mutation($input: LoginInput!) {
  login(input: $input) { accessToken refreshToken accessTokenExpiresAt user { id username } }
}"""
REFRESH = """
mutation($t: String!) {
  refreshSession(refreshToken: $t) { accessToken refreshToken accessTokenExpiresAt }
}"""
LOGOUT = "mutation($all: Boolean!) { logout(allSessions: $all) { endedSessions } }"
ME = "{ me { id username email displayName territory { code } roles { role territory } } }"
CREATE_INVITATION = """
mutation($input: CreateInvitationInput!) {
  createInvitation(input: $input) { token invitation { id maxUses useCount role email } }
}"""
REVOKE_INVITATION = """
mutation($input: RevokeInvitationInput!) {
  revokeInvitation(input: $input) { invitation { id revokedAt } revokedNow }
}"""
VALIDATE_INVITATION = "query($t: String!) { validateInvitation(token: $t) { valid code } }"
ASSIGN_ROLE = """
mutation($i: AssignRoleInput!) {
  assignRole(input: $i) { granted grant { role territory } user { id roles { role territory } } }
}"""
REVOKE_ROLE = """
mutation($i: RevokeRoleInput!) {
  revokeRole(input: $i) { revoked grant { role territory } user { id roles { role territory } } }
}"""


def server_of(territory_id: str) -> str:
    return ON_SECOND.get(territory_id, "main")


async def call(
    client: httpx.AsyncClient,
    query: str,
    variables: dict[str, Any] | None = None,
    token: str | None = None,
) -> dict[str, Any]:
    headers = {} if token is None else {"Authorization": f"Bearer {token}"}
    response = await client.post(
        "/graphql", json={"query": query, "variables": variables or {}}, headers=headers
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def cli(db: Database, *args: str) -> tuple[int, str, str]:
    """Run the real `unityplan` CLI against the suite's two servers."""
    env = {
        **os.environ,
        "DATABASE_URL": MAIN_DSN,
        "DATABASE_SERVERS": json.dumps({"second": db.dsn("second")}),
        "UNITYPLAN_ENV": "test",
        "PYTHONPATH": CHECKOUT,
    }
    proc = await asyncio.create_subprocess_exec(
        CLI, *args, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    out, err = await proc.communicate()
    return proc.returncode or 0, out.decode(), err.decode()


async def bootstrap(db: Database, territory: str, *options: str) -> str:
    code, out, err = await cli(db, "invitation", "bootstrap", territory, *options)
    assert code == 0, err
    token = out.strip()
    assert token.startswith(f"{territory}.")
    assert "\n" not in token
    return token


def unique(prefix: str = "u") -> str:
    return f"{prefix}{uuid.uuid4().hex[:10]}"


async def register(
    client: httpx.AsyncClient,
    token: str,
    username: str | None = None,
    email: str | None = None,
    password: str = PASSWORD,
) -> dict[str, Any]:
    username = username or unique()
    return await call(
        client,
        REGISTER,
        {
            "input": {
                "invitationToken": token,
                "username": username,
                "email": email or f"{username}@example.org",
                "password": password,
            }
        },
    )


async def login(
    client: httpx.AsyncClient, identifier: str, password: str = PASSWORD, **extra: Any
) -> dict[str, Any]:
    return await call(
        client, LOGIN, {"input": {"identifier": identifier, "password": password, **extra}}
    )


async def new_account(
    client: httpx.AsyncClient, db: Database, territory: str, *bootstrap_options: str
) -> dict[str, Any]:
    """Bootstrap an invitation, register with it and log in; returns tokens and the user."""
    token = await bootstrap(db, territory, *bootstrap_options)
    username = unique()
    body = await register(client, token, username)
    assert "errors" not in body, body
    logged = await login(client, username, territory=territory)
    assert "errors" not in logged, logged
    result: dict[str, Any] = logged["data"]["login"]
    return result


async def user_count(db: Database, territory: str) -> int:
    async with db.connect(server_of(territory), territory) as conn:
        return int((await conn.execute(select(func.count()).select_from(users))).scalar_one())


def codes(body: dict[str, Any]) -> list[str]:
    return [e.get("extensions", {}).get("code") for e in body.get("errors", [])]


async def invite(
    db: Database,
    territory: str,
    *,
    email: str | None = None,
    max_uses: int = 1,
    role: str = "member",
    hours: int = 24,
) -> str:
    """An invitation made in-process (the CLI path is tested on its own: it is slower)."""
    record = await active_territory(db, territory)
    assert record is not None
    token, _ = await create_invitation(
        db,
        record,
        email=email,
        max_uses=max_uses,
        role=Role(role),
        ttl=timedelta(hours=hours),
        created_by=None,
        actor=None,
    )
    return token


async def account(
    client: httpx.AsyncClient, db: Database, territory: str, role: str = "member"
) -> dict[str, Any]:
    token = await invite(db, territory, role=role)
    username = unique()
    body = await register(client, token, username)
    assert "errors" not in body, body
    logged = await login(client, username, territory=territory)
    assert "errors" not in logged, logged
    result: dict[str, Any] = logged["data"]["login"]
    return result


def fields(body: dict[str, Any]) -> list[str | None]:
    """``extensions.field`` of each error: the input field a refusal names."""
    return [e.get("extensions", {}).get("field") for e in body.get("errors", [])]


async def last_audit_id(db: Database) -> int:
    async with db.connect("main") as conn:
        query = text("SELECT coalesce(max(id), 0) FROM global.audit_log")
        return int((await conn.execute(query)).scalar_one())


async def audit_actions_since(db: Database, since_id: int) -> list[str]:
    async with db.connect("main") as conn:
        rows = await conn.execute(
            select(audit_log.c.action).where(audit_log.c.id > since_id).order_by(audit_log.c.id)
        )
        return list(rows.scalars())


async def identity_count(db: Database) -> int:
    async with db.connect("main") as conn:
        query = select(func.count()).select_from(user_identities)
        return int((await conn.execute(query)).scalar_one())


async def expire_invitation(db: Database, territory: str, token: str) -> None:
    async with db.transaction(server_of(territory), territory) as conn:
        await conn.execute(
            update(invitation_tokens)
            .where(invitation_tokens.c.token_hash == secret_hash(token))
            .values(expires_at=func.now() - text("interval '1 minute'"))
        )


async def assert_refused(
    client: httpx.AsyncClient, db: Database, territory: str, token: str, code: str, **kw: Any
) -> dict[str, Any]:
    """Registering with ``token`` fails with ``code`` and leaves no user and no identity."""
    users_before, identities_before = await user_count(db, territory), await identity_count(db)
    body = await register(client, token, **kw)
    assert codes(body) == [code], body
    assert await user_count(db, territory) == users_before
    assert await identity_count(db) == identities_before
    return body


# --- badges: definitions and awards made in-process (the mutations are tested on their own)


async def define_badge(
    db: Database,
    home: str,
    *,
    name: str | None = None,
    permissions: tuple[Permission, ...] = (),
    prerequisites: tuple[BadgeRef, ...] = (),
    validity_days: int | None = None,
    level: BadgeLevel | None = None,
    community_id: uuid.UUID | None = None,
) -> BadgeRef:
    """A definition in ``home`` (``global`` or a territory id) at version 1; its reference."""
    if level is None:
        level = (
            BadgeLevel.GLOBAL
            if home == GLOBAL_HOME
            else BadgeLevel.COMMUNITY
            if community_id is not None
            else BadgeLevel.TERRITORY
        )
    server = "main" if home == GLOBAL_HOME else server_of(home)
    async with db.transaction(server, None if home == GLOBAL_HOME else home) as conn:
        key = await badge_db.create_definition(
            conn,
            home,
            level=level,
            community_id=community_id,
            content={
                "name": name or unique("badge "),
                "permissions": [p.value for p in permissions],
                "validity_days": validity_days,
            },
            prerequisites=prerequisites,
        )
    return BadgeRef(home, key)


async def award_badge(
    db: Database,
    holder: dict[str, Any] | tuple[str, uuid.UUID],
    badge: BadgeRef,
    *,
    now: datetime | None = None,
) -> AwardRecord:
    """Award (or renew) ``badge`` to an account, given as ``account()``'s result or as
    (territory, user id), valid from ``now`` for the definition's validity."""
    if isinstance(holder, tuple):
        territory, user_id = holder
    else:
        territory, user_id = account_key(holder)
    home_server = "main" if badge.home == GLOBAL_HOME else server_of(badge.home)
    routed = None if badge.home == GLOBAL_HOME else badge.home
    async with db.connect(home_server, routed) as conn:
        definition = (await badge_db.definitions_by_ids(conn, badge.home, [badge.id]))[badge.id]
    async with db.transaction(server_of(territory), territory) as conn:
        award, _ = await badge_db.grant(
            conn,
            territory,
            user_id=user_id,
            definition=definition,
            now=now or datetime.now(UTC),
            source="manual",
            reason="test",
            actor=None,
        )
    return award


def account_key(logged: dict[str, Any]) -> tuple[str, uuid.UUID]:
    """(territory, user id) of an ``account()``/``new_account()`` result."""
    key = ids.decode(logged["user"]["id"])
    return key.territory_id, uuid.UUID(key.key)
