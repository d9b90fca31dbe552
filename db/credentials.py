"""Open Badges credentials of a territory: its issuer keys, status list bits, and issuing.

Callers pass a connection routed to the territory (``Database.transaction(server, territory)``);
what writes (a first key, an allocation, a revocation) commits with the caller's transaction, so
the badges area revokes an award and its credential in one commit.

What the badges area calls:
* ``allocate_status_index(conn, award_id)`` and ``issue_credential(conn, facts, public_url=...)``
  when the holder exports an award (``exportBadgeCredential``; the bit is allocated then, once);
* ``revoke(conn, award_id)`` in the transaction that revokes the award, ``set_revoked(..., False)``
  in the one that renews it (``db.badges.revoke`` and ``grant``).
"""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection

from db.models import credential_issuer_keys as keys_t
from db.models import credential_statuses as statuses_t
from domain.credentials import (
    STATUS_LIST_BITS,
    AwardFacts,
    PublishedKey,
    StatusEntry,
    Urls,
    build_credential,
    build_status_list,
    sign,
)

# Concurrent allocations may pick the same free bit; each retry sees the other's commit.
_ALLOCATION_ATTEMPTS = 8


@dataclass(frozen=True, slots=True)
class IssuerKey:
    """The territory issuer's active signing key."""

    kid: str
    private_key: Ed25519PrivateKey
    created_at: datetime

    def __repr__(self) -> str:  # never print key material
        return f"IssuerKey(kid={self.kid!r})"


def _raw(key: Ed25519PrivateKey | Ed25519PublicKey) -> bytes:
    if isinstance(key, Ed25519PrivateKey):
        return key.private_bytes(
            serialization.Encoding.Raw,
            serialization.PrivateFormat.Raw,
            serialization.NoEncryption(),
        )
    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


async def issuer_key(conn: AsyncConnection) -> IssuerKey:
    """The active key, generated on first use (concurrent first uses keep one of theirs)."""
    for _ in range(2):
        row = (
            await conn.execute(
                select(keys_t.c.kid, keys_t.c.private_key, keys_t.c.created_at).where(
                    keys_t.c.retired_at.is_(None)
                )
            )
        ).one_or_none()
        if row is not None:
            return IssuerKey(
                row.kid,
                Ed25519PrivateKey.from_private_bytes(bytes(row.private_key)),
                row.created_at,
            )
        count = (await conn.execute(select(func.count()).select_from(keys_t))).scalar_one()
        key = Ed25519PrivateKey.generate()
        await conn.execute(
            insert(keys_t)
            .values(
                kid=f"key-{count + 1}", private_key=_raw(key), public_key=_raw(key.public_key())
            )
            .on_conflict_do_nothing()
        )
    raise RuntimeError("no active issuer key after generating one")


async def retire_key(conn: AsyncConnection, *, now: datetime | None = None) -> None:
    """Retire the active key (rotation): the next signature generates a new one; what the old
    one signed before now still verifies."""
    await conn.execute(
        update(keys_t)
        .where(keys_t.c.retired_at.is_(None))
        .values(retired_at=now or datetime.now(UTC))
    )


async def published_keys(
    conn: AsyncConnection, kids: Iterable[str] | None = None
) -> list[PublishedKey]:
    """The issuer's keys (``kids`` only, when given), oldest first; public halves only."""
    query = select(
        keys_t.c.kid, keys_t.c.public_key, keys_t.c.created_at, keys_t.c.retired_at
    ).order_by(keys_t.c.created_at, keys_t.c.kid)
    if kids is not None:
        query = query.where(keys_t.c.kid.in_(list(kids)))
    return [
        PublishedKey(
            r.kid,
            Ed25519PublicKey.from_public_bytes(bytes(r.public_key)),
            r.created_at,
            r.retired_at,
        )
        for r in await conn.execute(query)
    ]


async def status_entry(conn: AsyncConnection, award_id: uuid.UUID) -> StatusEntry | None:
    row = (
        await conn.execute(
            select(statuses_t.c.list_no, statuses_t.c.status_index).where(
                statuses_t.c.award_id == award_id
            )
        )
    ).one_or_none()
    return None if row is None else StatusEntry(row.list_no, row.status_index)


async def allocate_status_index(conn: AsyncConnection, award_id: uuid.UUID) -> StatusEntry:
    """The award's bit in the territory's status lists: the one it has, else the next free one
    (a new list every 131,072 awards)."""
    for _ in range(_ALLOCATION_ATTEMPTS):
        found = await status_entry(conn, award_id)
        if found is not None:
            return found
        last = (
            await conn.execute(
                select(statuses_t.c.list_no, statuses_t.c.status_index)
                .order_by(statuses_t.c.list_no.desc(), statuses_t.c.status_index.desc())
                .limit(1)
            )
        ).one_or_none()
        if last is None:
            entry = StatusEntry(1, 0)
        elif last.status_index + 1 < STATUS_LIST_BITS:
            entry = StatusEntry(last.list_no, last.status_index + 1)
        else:
            entry = StatusEntry(last.list_no + 1, 0)
        await conn.execute(
            insert(statuses_t)
            .values(award_id=award_id, list_no=entry.list_no, status_index=entry.index)
            .on_conflict_do_nothing()
        )
    raise RuntimeError("could not allocate a status list bit")


async def set_revoked(
    conn: AsyncConnection, award_id: uuid.UUID, revoked: bool, *, now: datetime | None = None
) -> StatusEntry | None:
    """Set or clear the award's revocation bit; None when the award has no bit."""
    row = (
        await conn.execute(
            update(statuses_t)
            .where(statuses_t.c.award_id == award_id)
            .values(revoked=revoked, revoked_at=(now or datetime.now(UTC)) if revoked else None)
            .returning(statuses_t.c.list_no, statuses_t.c.status_index)
        )
    ).one_or_none()
    return None if row is None else StatusEntry(row.list_no, row.status_index)


async def revoke(conn: AsyncConnection, award_id: uuid.UUID) -> StatusEntry | None:
    """Revoke the award's credential; the badges area calls it in its revocation transaction."""
    return await set_revoked(conn, award_id, True)


async def revoked_in(conn: AsyncConnection, list_nos: Sequence[int]) -> dict[int, list[int]]:
    """The revoked bits of each list in ``list_nos``; lists with none are absent."""
    found: dict[int, list[int]] = {}
    rows = await conn.execute(
        select(statuses_t.c.list_no, statuses_t.c.status_index)
        .where(statuses_t.c.list_no.in_(list(list_nos)), statuses_t.c.revoked)
        .order_by(statuses_t.c.list_no, statuses_t.c.status_index)
    )
    for list_no, index in rows:
        found.setdefault(list_no, []).append(index)
    return found


async def last_list(conn: AsyncConnection) -> int:
    """The highest list number in use (1 while none is: list 1 always exists, empty)."""
    found = (await conn.execute(select(func.max(statuses_t.c.list_no)))).scalar_one()
    return max(1, int(found or 1))


async def issue_credential(
    conn: AsyncConnection, facts: AwardFacts, *, public_url: str, now: datetime | None = None
) -> str:
    """The award as a signed OpenBadgeCredential (compact JWS), with a fresh salt for the
    recipient's identity hash."""
    key = await issuer_key(conn)
    urls = Urls(public_url)
    credential = build_credential(facts, urls, salt=secrets.token_hex(16))
    return sign(
        credential,
        key.private_key,
        urls.key_id(facts.issuer_territory_id, key.kid),
        now=now or datetime.now(UTC),
    )


async def status_list_credential(
    conn: AsyncConnection, territory_id: str, list_no: int, *, public_url: str
) -> str | None:
    """List ``list_no`` as a signed BitstringStatusListCredential; None past the last list."""
    if list_no > await last_list(conn):
        return None
    key = await issuer_key(conn)
    urls = Urls(public_url)
    now = datetime.now(UTC)
    revoked = (await revoked_in(conn, [list_no])).get(list_no, [])
    credential = build_status_list(urls, territory_id, list_no, revoked, now=now)
    return sign(credential, key.private_key, urls.key_id(territory_id, key.kid), now=now)
