"""A territory's invitations and their uses. Callers pass a connection routed to the territory.

The token of an invitation exists only in the answer that creates it: the table keeps its SHA-256.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from db.audit import AuditAction, AuditEntry, record_with
from db.engines import Database
from db.models import invitation_tokens, invitation_uses
from db.territories import TerritoryRecord
from domain.accounts import secret_hash
from domain.invitations import InvitationState, new_token
from domain.roles import Role


@dataclass(frozen=True, slots=True)
class InvitationRecord:
    id: uuid.UUID
    territory_id: str
    email: str | None
    max_uses: int
    use_count: int
    role: Role
    expires_at: datetime
    revoked_at: datetime | None
    created_at: datetime

    def __repr__(self) -> str:
        return f"InvitationRecord(id={self.id}, territory_id={self.territory_id!r})"

    @property
    def state(self) -> InvitationState:
        return InvitationState(
            email=self.email,
            max_uses=self.max_uses,
            use_count=self.use_count,
            expires_at=self.expires_at,
            revoked_at=self.revoked_at,
        )


@dataclass(frozen=True, slots=True)
class InvitationUse:
    invitation_id: uuid.UUID
    user_id: uuid.UUID
    used_at: datetime


_COLUMNS = (
    invitation_tokens.c.id,
    invitation_tokens.c.email,
    invitation_tokens.c.max_uses,
    invitation_tokens.c.use_count,
    invitation_tokens.c.role,
    invitation_tokens.c.expires_at,
    invitation_tokens.c.revoked_at,
    invitation_tokens.c.created_at,
)


def _record(territory_id: str, row: Sequence[object]) -> InvitationRecord:
    iid, email, max_uses, use_count, role, expires, revoked, created = row
    return InvitationRecord(
        id=iid,  # type: ignore[arg-type]
        territory_id=territory_id,
        email=None if email is None else str(email),
        max_uses=int(max_uses),  # type: ignore[call-overload]
        use_count=int(use_count),  # type: ignore[call-overload]
        role=Role(str(role)),
        expires_at=expires,  # type: ignore[arg-type]
        revoked_at=revoked,  # type: ignore[arg-type]
        created_at=created,  # type: ignore[arg-type]
    )


async def create(
    conn: AsyncConnection,
    territory_id: str,
    *,
    token_hash: bytes,
    email: str | None,
    max_uses: int,
    role: Role,
    expires_at: datetime,
    created_by: uuid.UUID | None,
) -> InvitationRecord:
    row = (
        await conn.execute(
            insert(invitation_tokens)
            .values(
                id=uuid.uuid4(),
                token_hash=token_hash,
                email=email,
                max_uses=max_uses,
                role=role.value,
                expires_at=expires_at,
                created_by=created_by,
            )
            .returning(*_COLUMNS)
        )
    ).one()
    return _record(territory_id, row)


async def by_token_hash(
    conn: AsyncConnection, territory_id: str, token_hash: bytes, *, lock: bool = False
) -> InvitationRecord | None:
    query = select(*_COLUMNS).where(invitation_tokens.c.token_hash == token_hash)
    if lock:
        query = query.with_for_update()
    row = (await conn.execute(query)).first()
    return None if row is None else _record(territory_id, row)


async def by_token_hashes(
    conn: AsyncConnection, territory_id: str, token_hashes: Sequence[bytes]
) -> dict[bytes, InvitationRecord]:
    """Invitations by the SHA-256 of their tokens, in one statement (``validateInvitation``)."""
    result = await conn.execute(
        select(invitation_tokens.c.token_hash, *_COLUMNS).where(
            invitation_tokens.c.token_hash.in_(list(token_hashes))
        )
    )
    return {bytes(row[0]): _record(territory_id, row[1:]) for row in result.all()}


async def by_ids(
    conn: AsyncConnection, territory_id: str, ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, InvitationRecord]:
    result = await conn.execute(select(*_COLUMNS).where(invitation_tokens.c.id.in_(list(ids))))
    return {r.id: r for r in (_record(territory_id, row) for row in result.all())}


async def page(
    conn: AsyncConnection, territory_id: str, *, after: datetime | None, limit: int
) -> list[InvitationRecord]:
    """Newest first, keyset-paginated on creation time."""
    query = select(*_COLUMNS).order_by(invitation_tokens.c.created_at.desc()).limit(limit)
    if after is not None:
        query = query.where(invitation_tokens.c.created_at < after)
    return [_record(territory_id, row) for row in (await conn.execute(query)).all()]


async def record_use(conn: AsyncConnection, invitation_id: uuid.UUID, user_id: uuid.UUID) -> None:
    """Count a use (the CHECK constraint refuses a count beyond ``max_uses``) and say who."""
    await conn.execute(
        update(invitation_tokens)
        .where(invitation_tokens.c.id == invitation_id)
        .values(use_count=invitation_tokens.c.use_count + 1)
    )
    await conn.execute(
        insert(invitation_uses).values(
            id=uuid.uuid4(), invitation_id=invitation_id, user_id=user_id
        )
    )


async def revoke(conn: AsyncConnection, invitation_id: uuid.UUID) -> bool:
    result = await conn.execute(
        update(invitation_tokens)
        .where(invitation_tokens.c.id == invitation_id, invitation_tokens.c.revoked_at.is_(None))
        .values(revoked_at=func.now())
    )
    return bool(result.rowcount)


async def uses_of(
    conn: AsyncConnection, invitation_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, list[InvitationUse]]:
    """Uses of several invitations in one statement, oldest first."""
    rows = await conn.execute(
        select(
            invitation_uses.c.invitation_id, invitation_uses.c.user_id, invitation_uses.c.used_at
        )
        .where(invitation_uses.c.invitation_id.in_(list(invitation_ids)))
        .order_by(invitation_uses.c.used_at)
    )
    found: dict[uuid.UUID, list[InvitationUse]] = {i: [] for i in invitation_ids}
    for iid, uid, used in rows:
        found.setdefault(iid, []).append(InvitationUse(iid, uid, used))
    return found


# --- workflows


async def issue(
    conn: AsyncConnection,
    territory_id: str,
    *,
    email: str | None,
    max_uses: int,
    role: Role,
    ttl: timedelta,
    created_by: uuid.UUID | None,
) -> tuple[str, InvitationRecord]:
    """A new invitation and its token (returned once, stored only hashed)."""
    token = new_token(territory_id)
    record = await create(
        conn,
        territory_id,
        token_hash=secret_hash(token),
        email=email,
        max_uses=max_uses,
        role=role,
        expires_at=datetime.now(UTC) + ttl,
        created_by=created_by,
    )
    return token, record


def created_details(record: InvitationRecord) -> dict[str, Any]:
    """What ``invitation.created`` records: the terms, never the bound address itself."""
    return {
        "max_uses": record.max_uses,
        "role": record.role.value,
        "email_bound": record.email is not None,
    }


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
    """``issue`` in a transaction of its own, audited: for callers outside a GraphQL request
    (the operator's CLI, test set-up); a mutation issues inside ``territory_change``."""
    async with db.transaction(territory.db_server, territory.id) as conn:
        token, record = await issue(
            conn,
            territory.id,
            email=email,
            max_uses=max_uses,
            role=role,
            ttl=ttl,
            created_by=created_by,
        )
        entry = AuditEntry(
            AuditAction.INVITATION_CREATED,
            actor,
            territory.id,
            str(record.id),
            created_details(record),
        )
        await record_with(db, territory.db_server, conn, [entry])
    return token, record


async def revoke_invitation(
    conn: AsyncConnection, territory_id: str, invitation_id: uuid.UUID
) -> tuple[InvitationRecord, bool] | None:
    """The invitation after revoking it, and whether this call revoked it (False: it was revoked
    already); None when the territory has no such invitation."""
    changed = await revoke(conn, invitation_id)
    found = (await by_ids(conn, territory_id, [invitation_id])).get(invitation_id)
    return None if found is None else (found, changed)
