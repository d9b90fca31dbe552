"""Security events in ``global.audit_log``: no personal data, no secrets, ever.

``target`` and ``details`` hold ids (uuids, role grants, identity hashes as hex, reasons), never a
username, email, address, password, token or token hash.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncConnection

from db.engines import Database
from db.models import audit_log
from unityplan.settings import MAIN_SERVER


class AuditAction(StrEnum):
    LOGIN_SUCCEEDED = "auth.login_succeeded"
    LOGIN_FAILED = "auth.login_failed"
    LOGIN_THROTTLED = "auth.login_throttled"
    REFRESH_REUSED = "auth.refresh_reused"
    LOGOUT = "auth.logout"
    USER_REGISTERED = "user.registered"
    REGISTRATION_UNDONE = "user.registration_undone"
    ROLE_ASSIGNED = "role.assigned"
    ROLE_REVOKED = "role.revoked"
    INVITATION_CREATED = "invitation.created"
    INVITATION_REVOKED = "invitation.revoked"
    COMMUNITY_CREATED = "community.created"
    COMMUNITY_MEMBER_ADDED = "community.member_added"
    COMMUNITY_MEMBER_REMOVED = "community.member_removed"
    COMMUNITY_ROLE_CHANGED = "community.role_changed"
    BADGE_DEFINED = "badge.defined"
    BADGE_EDITED = "badge.edited"
    BADGE_AWARDED = "badge.awarded"
    BADGE_RENEWED = "badge.renewed"
    BADGE_REVOKED = "badge.revoked"
    BADGE_CREDENTIAL_EXPORTED = "badge.credential_exported"
    CODE_OF_CONDUCT_ACCEPTED = "badge.code_of_conduct_accepted"
    FILE_UPLOADED = "file.uploaded"
    FORUM_CREATED = "forum.created"


async def record(
    conn: AsyncConnection,
    action: AuditAction,
    *,
    actor: bytes | None = None,
    territory_id: str | None = None,
    target: str | None = None,
    details: dict[str, Any] | None = None,
) -> None:
    entry = AuditEntry(action, actor, territory_id, target, details or {})
    await _insert(conn, [entry])


@dataclass(frozen=True, slots=True)
class AuditEntry:
    action: AuditAction
    actor: bytes | None = None
    territory_id: str | None = None
    target: str | None = None
    details: dict[str, Any] = field(default_factory=dict)


async def record_with(
    db: Database, server: str, conn: AsyncConnection, entries: Sequence[AuditEntry]
) -> None:
    """Audit a change of a territory on ``server`` while its transaction ``conn`` is open.

    On the main server the entries join that very transaction (all or nothing). Elsewhere they are
    committed in ``global`` just before the territory commits, as registration does: an entry may
    then outlive a failed territory commit, but a change is never left unaudited.
    """
    if not entries:
        return
    if server == MAIN_SERVER:
        await _insert(conn, entries)
        return
    async with db.transaction(MAIN_SERVER) as global_conn:
        await _insert(global_conn, entries)


async def _insert(conn: AsyncConnection, entries: Sequence[AuditEntry]) -> None:
    await conn.execute(
        insert(audit_log),
        [
            {
                "action": e.action.value,
                "actor_identity_hash": e.actor,
                "territory_id": e.territory_id,
                "target": e.target,
                "details": e.details,
            }
            for e in entries
        ],
    )
