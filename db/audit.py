"""Security events in ``global.audit_log``: no personal data, no secrets, ever.

``target`` and ``details`` hold ids (uuids, role grants, identity hashes as hex, reasons), never a
username, email, address, password, token or token hash.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncConnection

from db.models import audit_log


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


async def record(
    conn: AsyncConnection,
    action: AuditAction,
    *,
    actor: bytes | None = None,
    territory_id: str | None = None,
    target: str | None = None,
    details: dict[str, Any] | None = None,
) -> None:
    await conn.execute(
        insert(audit_log).values(
            action=action.value,
            actor_identity_hash=actor,
            territory_id=territory_id,
            target=target,
            details=details or {},
        )
    )
