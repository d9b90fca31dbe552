"""Login: find the accounts an identifier may name, throttle failures, verify, issue a session."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime

from sqlalchemy import column, func, literal, select, table, union_all
from sqlalchemy.ext.asyncio import AsyncConnection

from db import audit, roles, sessions, users
from db import territories as registry
from db.accounts.core import AuthConfig, IssuedSession, active_territory
from db.audit import AuditAction
from db.authstate import AuthState
from db.badges import code_of_conduct_until
from db.engines import Database
from db.users import Credentials, UserRecord
from domain import passwords
from domain.accounts import new_secret, secret_hash
from domain.errors import AccountLocked, InvalidCredentials, TooManyRequests
from domain.territories import TerritoryStatus, schema_name, validate_territory_id
from unityplan.settings import MAIN_SERVER


def _users_of(territory_id: str):  # type: ignore[no-untyped-def]
    """``territory_<id>.users`` as a light table clause: for statements over several schemas."""
    return table(
        "users",
        column("id"),
        column("username"),
        column("email"),
        column("display_name"),
        column("status"),
        column("identity_hash"),
        column("created_at"),
        column("password_hash"),
        schema=schema_name(territory_id),
    )


async def _candidates_on_server(
    conn: AsyncConnection, territory_ids: Sequence[str], identifier: str
) -> list[Credentials]:
    """Accounts matching ``identifier`` in any of the territories: ONE statement per server."""
    wanted = identifier.lower()
    parts = []
    for tid in territory_ids:
        u = _users_of(tid)
        key = u.c.email if "@" in identifier else u.c.username
        parts.append(
            select(
                literal(tid).label("territory"),
                u.c.id,
                u.c.username,
                u.c.email,
                u.c.display_name,
                u.c.status,
                u.c.identity_hash,
                u.c.created_at,
                u.c.password_hash,
            ).where(func.lower(key) == wanted)
        )
    rows = (await conn.execute(union_all(*parts))).all()
    return [
        Credentials(
            UserRecord(
                id=r[1],
                territory_id=str(r[0]),
                username=str(r[2]),
                email=str(r[3]),
                display_name=str(r[4]),
                status=str(r[5]),
                identity_hash=None if r[6] is None else bytes(r[6]),
                created_at=r[7],
            ),
            str(r[8]),
        )
        for r in rows
    ]


async def find_credentials(
    db: Database, territory_id: str | None, identifier: str
) -> list[Credentials]:
    """Accounts an identifier may mean: in one territory, or in every active one.

    Without a territory the lookup runs one statement per database server over all its active
    territories' ``users`` tables (``global`` holds no usernames or emails to look them up by).
    """
    async with db.connect(MAIN_SERVER) as conn:
        if territory_id is not None:
            found = await registry.by_ids(conn, [validate_territory_id(territory_id)])
            records = list(found.values())
        else:
            records = await registry.all_records(conn)
    by_server: dict[str, list[str]] = {}
    for record in records:
        if record.status is TerritoryStatus.ACTIVE:
            by_server.setdefault(record.db_server, []).append(record.id)

    async def on(server: str, tids: list[str]) -> list[Credentials]:
        async with db.connect(server) as conn:
            return await _candidates_on_server(conn, tids, identifier)

    results = await asyncio.gather(*(on(s, t) for s, t in by_server.items()))
    return [c for result in results for c in result]


async def _grants(db: Database, ihash: bytes) -> list[str]:
    async with db.connect(MAIN_SERVER) as conn:
        found = await roles.active_grants(conn, [ihash])
    return [g.encode() for g in found.get(ihash, [])]


async def issue(
    config: AuthConfig,
    conn: AsyncConnection,
    user: UserRecord,
    grants: list[str],
    family_id: uuid.UUID,
    *,
    code_of_conduct_until: datetime | None,
) -> IssuedSession:
    """A new refresh token of session family ``family_id`` and an access token carrying
    ``grants``: the one place both are minted (login starts a family, refresh continues it)."""
    if user.identity_hash is None:  # not made by registration: it cannot hold a session
        raise InvalidCredentials("Wrong username, email or password.")
    refresh_token = new_secret()
    await sessions.create(
        conn,
        identity_hash=user.identity_hash,
        family_id=family_id,
        refresh_token_hash=secret_hash(refresh_token),
        expires_at=datetime.now(UTC) + config.refresh_ttl,
    )
    access, expires = config.keys.issue(
        user_id=user.id,
        territory_id=user.territory_id,
        roles=grants,
        session_id=family_id,
        ttl=config.access_ttl,
        code_of_conduct_until=code_of_conduct_until,
    )
    return IssuedSession(access, expires, refresh_token, user)


def throttle_subjects(identifier: str, candidates: Sequence[Credentials]) -> list[str]:
    """What the per-account failure counter counts: the accounts the identifier names.

    Username and email (in any case, with or without a territory) reach one counter, so naming
    an account another way buys no extra guesses. An identifier naming no account is counted
    by itself, so unknown and known identifiers lock alike.
    """
    if not candidates:
        return [f"identifier:{identifier.lower()}"]
    return [f"account:{c.user.territory_id}:{c.user.id}" for c in candidates]


async def login(
    db: Database,
    config: AuthConfig,
    state: AuthState,
    *,
    territory_id: str | None,
    identifier: str,
    password: str,
    client_ip: str,
) -> IssuedSession:
    """Check a password with the attempt claimed first (db/authstate.py ``_claim``).

    The client's and the accounts' counters are incremented BEFORE the password is verified and
    the attempt is refused when the new count exceeds the allowance; a success gives its claims
    back. A failure in between (an outage) leaves the claim counted: it errs on the strict side.
    """
    if await state.claim_ip(client_ip) > state.limits.per_ip:
        raise TooManyRequests("Too many failed logins from this address; try again later.")
    candidates = await find_credentials(db, territory_id, identifier)
    subjects = throttle_subjects(identifier, candidates)
    account_attempts = await state.claim_accounts(subjects)
    if account_attempts > state.limits.per_account:
        # Not a guess at the password: it does not count against the client address.
        await state.release(subjects, client_ip)
        raise AccountLocked("This account is locked after repeated failed logins; try later.")

    matched: Credentials | None = None
    for candidate in candidates:
        if await asyncio.to_thread(
            passwords.verify_password, candidate.password_hash, password, config.hasher
        ):
            matched = candidate
            break
    if not candidates:
        await asyncio.to_thread(
            passwords.verify_password, passwords.dummy_hash(config.hasher), password, config.hasher
        )
    if matched is None or matched.user.status != "active" or matched.user.identity_hash is None:
        actor = candidates[0].user if len(candidates) == 1 else None
        async with db.transaction(MAIN_SERVER) as conn:
            await audit.record(
                conn,
                AuditAction.LOGIN_FAILED,
                actor=None if actor is None else actor.identity_hash,
                territory_id=None if actor is None else actor.territory_id,
                details={"reason": "bad_credentials" if matched is None else "inactive"},
            )
            if account_attempts == state.limits.per_account:
                await audit.record(
                    conn,
                    AuditAction.LOGIN_THROTTLED,
                    actor=None if actor is None else actor.identity_hash,
                    territory_id=None if actor is None else actor.territory_id,
                )
        raise InvalidCredentials("Wrong username, email or password.")

    user = matched.user
    ihash = matched.user.identity_hash
    if passwords.needs_rehash(matched.password_hash, config.hasher):
        new_hash = await asyncio.to_thread(passwords.hash_password, password, config.hasher)
        territory = await active_territory(db, user.territory_id)
        assert territory is not None
        async with db.transaction(territory.db_server, user.territory_id) as conn:
            await users.set_password_hash(conn, user.id, new_hash)
    # The other accounts the identifier named were not guessed at; the matched one starts over.
    matched_subjects = throttle_subjects(identifier, [matched])
    await state.release([s for s in subjects if s not in matched_subjects], client_ip)
    await state.clear_accounts(matched_subjects)
    grants = await _grants(db, ihash)
    coc_until = await code_of_conduct_until(db, user.territory_id, user.id)
    family = uuid.uuid4()
    async with db.transaction(MAIN_SERVER) as conn:
        issued = await issue(config, conn, user, grants, family, code_of_conduct_until=coc_until)
        await audit.record(
            conn,
            AuditAction.LOGIN_SUCCEEDED,
            actor=user.identity_hash,
            territory_id=user.territory_id,
        )
    # The session just written is alive with these grants: its first requests need no re-check.
    await state.remember(str(family), ihash, grants)
    return issued
