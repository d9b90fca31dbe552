"""What identity and access must never do: leak secrets, keep personal data in `global`, or
expose a root field without a declared permission."""

from __future__ import annotations

import logging
from typing import Any

import httpx
import pytest
from sqlalchemy import select, text

from db.engines import Database
from db.models import users
from domain.accounts import secret_hash
from graph.permissions import IsAuthenticated, Public
from graph.schema import schema
from tests.authkit import ME, REFRESH, call, invite, login, register, unique


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
    # Global badge definitions: a catalogue (names, criteria, permissions), never a person.
    "badge_definitions": {
        "id",
        "level",
        "community_id",
        "core_key",
        "current_version",
        "created_at",
        "updated_at",
    },
    "badge_definition_versions": {
        "definition_id",
        "version",
        "name",
        "description",
        "criteria",
        "image",
        "category",
        "permissions",
        "prerequisites",
        "validity_days",
        "rules",
        "created_at",
    },
    "badge_prerequisites": {"definition_id", "prerequisite_home", "prerequisite_id"},
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
