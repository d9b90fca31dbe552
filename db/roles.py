"""Identities and role grants in ``global`` (main server)."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncConnection

from db.models import role_assignments, user_identities
from domain.roles import Grant, Role


async def insert_identity(conn: AsyncConnection, identity_hash: bytes, territory_id: str) -> None:
    await conn.execute(
        insert(user_identities).values(identity_hash=identity_hash, territory_id=territory_id)
    )


async def delete_identity(conn: AsyncConnection, identity_hash: bytes) -> None:
    """Compensation for a registration whose territory half failed (cascades grants, sessions)."""
    await conn.execute(
        user_identities.delete().where(user_identities.c.identity_hash == identity_hash)
    )


async def territory_of_identity(conn: AsyncConnection, identity_hash: bytes) -> str | None:
    row = (
        await conn.execute(
            select(user_identities.c.territory_id).where(
                user_identities.c.identity_hash == identity_hash
            )
        )
    ).first()
    return None if row is None else str(row[0])


async def active_grants(
    conn: AsyncConnection, identity_hashes: Sequence[bytes]
) -> dict[bytes, list[Grant]]:
    """Active grants of each identity, in one statement."""
    rows = await conn.execute(
        select(
            role_assignments.c.identity_hash,
            role_assignments.c.role,
            role_assignments.c.territory_id,
        )
        .where(
            role_assignments.c.identity_hash.in_(list(identity_hashes)),
            role_assignments.c.revoked_at.is_(None),
        )
        .order_by(role_assignments.c.id)
    )
    found: dict[bytes, list[Grant]] = {bytes(h): [] for h in identity_hashes}
    for ihash, role, territory in rows:
        found.setdefault(bytes(ihash), []).append(Grant(Role(role), territory))
    return found


async def grant(
    conn: AsyncConnection, identity_hash: bytes, grant: Grant, *, granted_by: bytes | None
) -> bool:
    """Grant a role; False when it is already held (idempotent)."""
    result = await conn.execute(
        pg_insert(role_assignments)
        .values(
            identity_hash=identity_hash,
            role=grant.role.value,
            territory_id=grant.territory_id,
            granted_by=granted_by,
        )
        .on_conflict_do_nothing()
    )
    return bool(result.rowcount)


async def revoke(
    conn: AsyncConnection, identity_hash: bytes, grant: Grant, *, revoked_by: bytes | None
) -> bool:
    """Revoke an active grant; False when it was not held."""
    territory = role_assignments.c.territory_id
    result = await conn.execute(
        update(role_assignments)
        .where(
            role_assignments.c.identity_hash == identity_hash,
            role_assignments.c.role == grant.role.value,
            territory.is_(None) if grant.territory_id is None else territory == grant.territory_id,
            role_assignments.c.revoked_at.is_(None),
        )
        .values(revoked_at=func.now(), revoked_by=revoked_by)
    )
    return bool(result.rowcount)


async def change_role(
    conn: AsyncConnection, identity_hash: bytes, role: Grant, *, assign: bool, actor: bytes | None
) -> bool:
    """Grant or revoke ``role``; False when nothing changed (already held, or not held).

    A revocation takes effect at once only if the caller also refuses the access tokens still
    carrying the grant (``AuthState.grant_revoked``) once this commits; granting it again must
    lift that refusal (``AuthState.grant_restored``).
    """
    if assign:
        return await grant(conn, identity_hash, role, granted_by=actor)
    return await revoke(conn, identity_hash, role, revoked_by=actor)
