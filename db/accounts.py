"""Account workflows that span a territory's server and ``global`` on the main server.

Registration writes the user and the invitation use in the territory's schema and the identity
hash (plus grants and audit) in ``global``:

* territory on the main server: both halves run in ONE transaction on one connection (the
  territory tables are routed by ``schema_translate_map``, ``global`` tables are not);
* territory on another server: the territory transaction is opened first and holds the
  invitation row lock; ``global`` is written and committed inside it; then the territory commits.
  If ``global`` fails, the territory transaction rolls back (nothing written anywhere). If the
  territory commit fails after ``global`` committed, the identity is deleted again (compensation;
  its grants and sessions cascade), so no half-made account remains. PostgreSQL's two-phase
  commit would need ``max_prepared_transactions`` on every server, which we cannot assume.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import column, func, literal, select, table, union_all
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from db import audit, invitations, roles, sessions, users
from db import territories as registry
from db.audit import AuditAction
from db.authstate import AuthState
from db.engines import Database
from db.invitations import InvitationRecord
from db.territories import TerritoryRecord
from db.users import Credentials, UserRecord
from domain import passwords
from domain.accounts import identity_hash, new_secret, secret_hash
from domain.errors import (
    AccountLocked,
    AlreadyExists,
    InvalidCredentials,
    InvitationNotFound,
    NotFound,
    TooManyRequests,
    Unauthenticated,
)
from domain.invitations import check_usable, territory_of
from domain.invitations import new_token as new_invitation_token
from domain.roles import Grant, Role
from domain.territories import TerritoryStatus, schema_name, validate_territory_id
from domain.tokens import KeySet
from unityplan.settings import MAIN_SERVER

log = logging.getLogger("unityplan.accounts")


@dataclass(frozen=True, slots=True)
class AuthConfig:
    """What the workflows need besides the databases; built once per process."""

    keys: KeySet
    identity_key: bytes
    access_ttl: timedelta
    refresh_ttl: timedelta

    def __repr__(self) -> str:
        return f"AuthConfig(keys={self.keys!r})"

    def identity(self, territory_id: str, user_id: uuid.UUID) -> bytes:
        return identity_hash(self.identity_key, territory_id, user_id)


@dataclass(frozen=True, slots=True)
class IssuedSession:
    access_token: str
    access_token_expires_at: datetime
    refresh_token: str
    user: UserRecord

    def __repr__(self) -> str:
        return f"IssuedSession(user={self.user!r})"


async def active_territory(db: Database, territory_id: str) -> TerritoryRecord | None:
    async with db.connect(MAIN_SERVER) as conn:
        record = (await registry.by_ids(conn, [territory_id])).get(territory_id)
    if record is None or record.status is not TerritoryStatus.ACTIVE:
        return None
    return record


# --- registration


def invitation_grants(territory_id: str, role: Role) -> list[Grant]:
    """Every member is a member of their territory; the invitation may add one more role."""
    grants = [Grant(Role.MEMBER, territory_id)]
    if role is Role.GLOBAL_ADMIN:
        grants.append(Grant(Role.GLOBAL_ADMIN, None))
    elif role is not Role.MEMBER:
        grants.append(Grant(role, territory_id))
    return grants


async def _write_global_half(
    conn: AsyncConnection, ihash: bytes, territory_id: str, grants: list[Grant], invitation: str
) -> None:
    await roles.insert_identity(conn, ihash, territory_id)
    for grant in grants:
        await roles.grant(conn, ihash, grant, granted_by=None)
    await audit.record(
        conn,
        AuditAction.USER_REGISTERED,
        actor=ihash,
        territory_id=territory_id,
        target=invitation,
        details={"roles": [g.encode() for g in grants]},
    )


async def register(
    db: Database,
    config: AuthConfig,
    *,
    token: str,
    username: str,
    email: str,
    password: str,
    display_name: str,
) -> UserRecord:
    """Create the account invited by ``token``; all or nothing across both servers."""
    territory_id = territory_of(token)
    territory = await active_territory(db, territory_id)
    if territory is None:
        raise InvitationNotFound("No such invitation.")
    password_hash = await asyncio.to_thread(passwords.hash_password, password)
    user_id = uuid.uuid4()
    ihash = config.identity(territory_id, user_id)
    same_server = territory.db_server == MAIN_SERVER
    global_committed = False
    try:
        async with db.transaction(territory.db_server, territory_id) as conn:
            invitation = await invitations.by_token_hash(
                conn, territory_id, secret_hash(token), lock=True
            )
            if invitation is None:
                raise InvitationNotFound("No such invitation.")
            check_usable(invitation.state, now=datetime.now(UTC), email=email)
            if await users.taken(conn, username=username, email=email):
                raise AlreadyExists("That username or email is already registered here.")
            try:
                await users.insert_user(
                    conn,
                    user_id=user_id,
                    username=username,
                    email=email,
                    password_hash=password_hash,
                    display_name=display_name,
                    identity_hash=ihash,
                )
            except IntegrityError:  # a concurrent registration took the name
                raise AlreadyExists("That username or email is already registered here.") from None
            await invitations.record_use(conn, invitation.id, user_id)
            grants = invitation_grants(territory_id, invitation.role)
            if same_server:
                await _write_global_half(conn, ihash, territory_id, grants, str(invitation.id))
            else:
                async with db.transaction(MAIN_SERVER) as gconn:
                    await _write_global_half(gconn, ihash, territory_id, grants, str(invitation.id))
                global_committed = True
    except BaseException:
        if global_committed:
            await _compensate(db, territory_id, ihash)
        raise
    async with db.connect(territory.db_server, territory_id) as conn:
        return (await users.by_ids(conn, territory_id, [user_id]))[user_id]


async def _compensate(db: Database, territory_id: str, ihash: bytes) -> None:
    try:
        async with db.transaction(MAIN_SERVER) as conn:
            await roles.delete_identity(conn, ihash)
            await audit.record(
                conn,
                AuditAction.REGISTRATION_UNDONE,
                territory_id=territory_id,
                details={"reason": "territory commit failed"},
            )
    except Exception:
        log.error(
            "registration in %s failed after global was written and the compensation failed "
            "too: an identity without a user is left in global.user_identities",
            territory_id,
        )
        raise


# --- login


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


async def _issue(
    config: AuthConfig,
    conn: AsyncConnection,
    user: UserRecord,
    grants: list[str],
    family_id: uuid.UUID,
) -> IssuedSession:
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
    _, ip_failures = await state.failures((), client_ip)
    if ip_failures >= state.limits.per_ip:
        raise TooManyRequests("Too many failed logins from this address; try again later.")
    candidates = await find_credentials(db, territory_id, identifier)
    subjects = throttle_subjects(identifier, candidates)
    account_failures, _ = await state.failures(subjects, client_ip)
    if account_failures >= state.limits.per_account:
        raise AccountLocked("This account is locked after repeated failed logins; try later.")

    matched: Credentials | None = None
    for candidate in candidates:
        if await asyncio.to_thread(passwords.verify_password, candidate.password_hash, password):
            matched = candidate
            break
    if not candidates:
        await asyncio.to_thread(passwords.verify_password, passwords.DUMMY_HASH, password)
    if matched is None or matched.user.status != "active" or matched.user.identity_hash is None:
        account_failures, _ = await state.record_failure(subjects, client_ip)
        actor = candidates[0].user if len(candidates) == 1 else None
        async with db.transaction(MAIN_SERVER) as conn:
            await audit.record(
                conn,
                AuditAction.LOGIN_FAILED,
                actor=None if actor is None else actor.identity_hash,
                territory_id=None if actor is None else actor.territory_id,
                details={"reason": "bad_credentials" if matched is None else "inactive"},
            )
            if account_failures == state.limits.per_account:
                await audit.record(
                    conn,
                    AuditAction.LOGIN_THROTTLED,
                    actor=None if actor is None else actor.identity_hash,
                    territory_id=None if actor is None else actor.territory_id,
                )
        raise InvalidCredentials("Wrong username, email or password.")

    user = matched.user
    ihash = matched.user.identity_hash
    if passwords.needs_rehash(matched.password_hash):
        new_hash = await asyncio.to_thread(passwords.hash_password, password)
        territory = await active_territory(db, user.territory_id)
        assert territory is not None
        async with db.transaction(territory.db_server, user.territory_id) as conn:
            await users.set_password_hash(conn, user.id, new_hash)
    await state.clear_accounts(throttle_subjects(identifier, [matched]))
    grants = await _grants(db, ihash)
    async with db.transaction(MAIN_SERVER) as conn:
        issued = await _issue(config, conn, user, grants, uuid.uuid4())
        await audit.record(
            conn,
            AuditAction.LOGIN_SUCCEEDED,
            actor=user.identity_hash,
            territory_id=user.territory_id,
        )
    return issued


# --- refresh and logout


async def refresh(db: Database, config: AuthConfig, state: AuthState, token: str) -> IssuedSession:
    """Rotate a refresh token; a token presented after its rotation revokes its whole family."""
    if not token or len(token) > 200:
        raise Unauthenticated("Invalid refresh token.")
    reused_family: uuid.UUID | None = None
    async with db.transaction(MAIN_SERVER) as conn:
        row = await sessions.lock_by_token_hash(conn, secret_hash(token))
        if row is None or row.revoked_at is not None:
            raise Unauthenticated("Invalid refresh token.")
        if row.rotated_at is not None:
            await sessions.revoke_family(conn, row.family_id)
            territory_id = await roles.territory_of_identity(conn, row.identity_hash)
            await audit.record(
                conn,
                AuditAction.REFRESH_REUSED,
                actor=row.identity_hash,
                territory_id=territory_id,
                target=str(row.family_id),
            )
            reused_family = row.family_id
        elif row.expires_at <= datetime.now(UTC):
            raise Unauthenticated("The session has expired; log in again.")
        else:
            user = await _session_user(db, conn, row.identity_hash)
            if user is None:
                await sessions.revoke_family(conn, row.family_id)
            else:
                await sessions.mark_rotated(conn, row.id)
                grants = await _grants_in(conn, row.identity_hash)
                return await _issue(config, conn, user, grants, row.family_id)
    if reused_family is not None:
        await state.end_sessions([str(reused_family)], ttl=_seconds(config.access_ttl))
        raise Unauthenticated("This refresh token was already used; the session is ended.")
    raise Unauthenticated("The account is no longer active.")


def _seconds(delta: timedelta) -> int:
    return max(1, int(delta.total_seconds()))


async def _grants_in(conn: AsyncConnection, ihash: bytes) -> list[str]:
    found = await roles.active_grants(conn, [ihash])
    return [g.encode() for g in found.get(ihash, [])]


async def _session_user(db: Database, conn: AsyncConnection, ihash: bytes) -> UserRecord | None:
    territory_id = await roles.territory_of_identity(conn, ihash)
    if territory_id is None:
        return None
    territory = await active_territory(db, territory_id)
    if territory is None:
        return None
    async with db.connect(territory.db_server, territory_id) as tconn:
        user = await users.by_identity_hash(tconn, territory_id, ihash)
    return user if user is not None and user.status == "active" else None


async def logout(
    db: Database,
    config: AuthConfig,
    state: AuthState,
    *,
    territory_id: str,
    user_id: uuid.UUID,
    session_id: uuid.UUID,
    all_sessions: bool,
) -> int:
    """End this session (its refresh family) or every session of the user; returns families."""
    ihash = config.identity(territory_id, user_id)
    async with db.transaction(MAIN_SERVER) as conn:
        if all_sessions:
            families = await sessions.revoke_all(conn, ihash)
        else:
            await sessions.revoke_family(conn, session_id, ihash)
            families = [session_id]
        await audit.record(
            conn,
            AuditAction.LOGOUT,
            actor=ihash,
            territory_id=territory_id,
            details={"all_sessions": all_sessions},
        )
    ended = {str(f) for f in families} | {str(session_id)}
    await state.end_sessions(sorted(ended), ttl=_seconds(config.access_ttl))
    return len(ended)


async def user_by_id(db: Database, territory_id: str, user_id: uuid.UUID) -> UserRecord:
    territory = await active_territory(db, territory_id)
    if territory is None:
        raise NotFound("No such user.")
    async with db.connect(territory.db_server, territory_id) as conn:
        found = (await users.by_ids(conn, territory_id, [user_id])).get(user_id)
    if found is None:
        raise NotFound("No such user.")
    return found


# --- invitations


@asynccontextmanager
async def territory_and_global(
    db: Database, territory: TerritoryRecord
) -> AsyncIterator[tuple[AsyncConnection, AsyncConnection]]:
    """Connections for a change in a territory plus its ``global`` side (grants, audit).

    One transaction when the territory lives on the main server; otherwise ``global`` commits
    just before the territory (its writes here are audit entries, harmless if the territory
    commit then fails).
    """
    async with db.transaction(territory.db_server, territory.id) as tconn:
        if territory.db_server == MAIN_SERVER:
            yield tconn, tconn
        else:
            async with db.transaction(MAIN_SERVER) as gconn:
                yield tconn, gconn


async def create_invitation(
    db: Database,
    territory: TerritoryRecord,
    *,
    email: str | None,
    max_uses: int,
    role: Role,
    ttl: timedelta,
    created_by: uuid.UUID | None,
    actor: bytes | None,
) -> tuple[str, InvitationRecord]:
    """A new invitation and its token (returned once, stored only hashed)."""
    token = new_invitation_token(territory.id)
    async with territory_and_global(db, territory) as (tconn, gconn):
        record = await invitations.create(
            tconn,
            territory.id,
            token_hash=secret_hash(token),
            email=email,
            max_uses=max_uses,
            role=role,
            expires_at=datetime.now(UTC) + ttl,
            created_by=created_by,
        )
        await audit.record(
            gconn,
            AuditAction.INVITATION_CREATED,
            actor=actor,
            territory_id=territory.id,
            target=str(record.id),
            details={"max_uses": max_uses, "role": role.value, "email_bound": email is not None},
        )
    return token, record


async def revoke_invitation(
    db: Database, territory: TerritoryRecord, invitation_id: uuid.UUID, *, actor: bytes | None
) -> InvitationRecord:
    async with territory_and_global(db, territory) as (tconn, gconn):
        if not await invitations.revoke(tconn, invitation_id):
            found = await invitations.by_ids(tconn, territory.id, [invitation_id])
            if invitation_id not in found:
                raise NotFound("No such invitation.")
        else:
            await audit.record(
                gconn,
                AuditAction.INVITATION_REVOKED,
                actor=actor,
                territory_id=territory.id,
                target=str(invitation_id),
            )
        return (await invitations.by_ids(tconn, territory.id, [invitation_id]))[invitation_id]


async def check_invitation(db: Database, token: str) -> InvitationRecord:
    """The invitation behind ``token`` if it can still be used, else its specific error."""
    territory_id = territory_of(token)
    territory = await active_territory(db, territory_id)
    if territory is None:
        raise InvitationNotFound("No such invitation.")
    async with db.connect(territory.db_server, territory_id) as conn:
        found = await invitations.by_token_hash(conn, territory_id, secret_hash(token))
    if found is None:
        raise InvitationNotFound("No such invitation.")
    check_usable(found.state, now=datetime.now(UTC), email=None)
    return found


# --- roles


async def change_role(
    db: Database,
    config: AuthConfig,
    state: AuthState,
    *,
    target_territory: str,
    target_user: uuid.UUID,
    grant: Grant,
    assign: bool,
    actor: bytes,
) -> bool:
    """Grant or revoke, with its audit entry, in one ``global`` transaction.

    A revocation takes effect at once: access tokens still carrying the grant are refused
    (``AuthState.refusal``) until they expire, so their holder must refresh, which re-reads the
    grants. Granting it again lifts that refusal.
    """
    await user_by_id(db, target_territory, target_user)
    ihash = config.identity(target_territory, target_user)
    async with db.transaction(MAIN_SERVER) as conn:
        if assign:
            changed = await roles.grant(conn, ihash, grant, granted_by=actor)
        else:
            changed = await roles.revoke(conn, ihash, grant, revoked_by=actor)
        if changed:
            await audit.record(
                conn,
                AuditAction.ROLE_ASSIGNED if assign else AuditAction.ROLE_REVOKED,
                actor=actor,
                territory_id=grant.territory_id,
                target=ihash.hex(),
                details={"role": grant.encode()},
            )
    if assign:
        await state.grant_restored(ihash, grant.encode())
    elif changed:
        await state.grant_revoked(ihash, grant.encode(), ttl=_seconds(config.access_ttl))
    return changed
