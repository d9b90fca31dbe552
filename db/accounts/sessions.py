"""Refresh and logout: rotate a session's refresh token, end one session or all of them."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncConnection

from db import audit, roles, users
from db import sessions as session_db
from db.accounts.core import AuthConfig, IssuedSession, active_territory
from db.accounts.login import issue
from db.audit import AuditAction
from db.authstate import AuthState
from db.badges import code_of_conduct_until
from db.engines import Database
from db.users import UserRecord
from domain.accounts import secret_hash
from domain.errors import Unauthenticated
from unityplan.settings import MAIN_SERVER


async def refresh(db: Database, config: AuthConfig, state: AuthState, token: str) -> IssuedSession:
    """Rotate a refresh token; a token presented after its rotation revokes its whole family."""
    if not token or len(token) > 200:
        raise Unauthenticated("Invalid refresh token.")
    reused_family: uuid.UUID | None = None
    issued: IssuedSession | None = None
    async with db.transaction(MAIN_SERVER) as conn:
        row = await session_db.lock_by_token_hash(conn, secret_hash(token))
        if row is None or row.revoked_at is not None:
            raise Unauthenticated("Invalid refresh token.")
        if row.rotated_at is not None:
            await session_db.revoke_family(conn, row.family_id)
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
                await session_db.revoke_family(conn, row.family_id)
            else:
                await session_db.mark_rotated(conn, row.id)
                grants = await _grants_in(conn, row.identity_hash)
                coc_until = await code_of_conduct_until(db, user.territory_id, user.id)
                issued = await issue(
                    config,
                    conn,
                    user,
                    grants,
                    row.family_id,
                    code_of_conduct_until=coc_until,
                )
    if issued is not None:
        await state.remember(str(row.family_id), row.identity_hash, grants)
        return issued
    if reused_family is not None:
        await state.end_sessions([str(reused_family)], ttl=config.access_ttl_seconds())
        raise Unauthenticated("This refresh token was already used; the session is ended.")
    raise Unauthenticated("The account is no longer active.")


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
            families = await session_db.revoke_all(conn, ihash)
        else:
            await session_db.revoke_family(conn, session_id, ihash)
            families = [session_id]
        await audit.record(
            conn,
            AuditAction.LOGOUT,
            actor=ihash,
            territory_id=territory_id,
            details={"all_sessions": all_sessions},
        )
    ended = {str(f) for f in families} | {str(session_id)}
    await state.end_sessions(sorted(ended), ttl=config.access_ttl_seconds())
    return len(ended)
