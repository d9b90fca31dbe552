"""Registration: the user and the invitation use in the territory's schema, the identity hash
(plus grants and audit) in ``global`` on the main server:

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
from collections.abc import Callable
from datetime import UTC, datetime

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from db import audit, invitations, roles, users
from db import events as outbox
from db.accounts.core import AuthConfig, active_territory
from db.audit import AuditAction
from db.engines import Database
from db.users import UserRecord
from domain import passwords
from domain.accounts import secret_hash
from domain.errors import AlreadyExists, InvitationNotFound
from domain.events import Envelope
from domain.invitations import check_usable, territory_of
from domain.roles import Grant, Role
from unityplan.settings import MAIN_SERVER

log = logging.getLogger("unityplan.accounts")


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
    announce: Callable[[str, uuid.UUID], Envelope] | None = None,
) -> UserRecord:
    """Create the account invited by ``token``; all or nothing across both servers.

    ``announce(territory_id, user_id)`` seals the ``account.registered`` event (the id format
    belongs to the API layer); its outbox row is written in the territory's transaction, so it
    exists exactly when the account does.
    """
    territory_id = territory_of(token)
    territory = await active_territory(db, territory_id)
    if territory is None:
        raise InvitationNotFound("No such invitation.")
    password_hash = await asyncio.to_thread(passwords.hash_password, password, config.hasher)
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
            if announce is not None:
                await outbox.insert_events(conn, territory_id, [announce(territory_id, user_id)])
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
