"""Trusted documents in ``global.trusted_documents``: GraphQL operation texts by SHA-256.

In ``global`` (on the main server) because every API process must see a document as soon as the
CLI or an APQ registration stored it; rows are immutable (a hash names one text forever), so
registering is an idempotent insert and readers may cache without invalidation.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection

from db.models import trusted_documents


async def get(conn: AsyncConnection, sha256: str) -> str | None:
    """The text registered under ``sha256`` (lower-case hex), if any."""
    body: str | None = await conn.scalar(
        select(trusted_documents.c.body).where(trusted_documents.c.sha256 == sha256)
    )
    return body


async def register(conn: AsyncConnection, documents: Iterable[tuple[str, str]]) -> set[str]:
    """Store ``(sha256, text)`` pairs the caller has verified; return the hashes that were new."""
    rows = [{"sha256": sha, "body": body} for sha, body in documents]
    if not rows:
        return set()
    result = await conn.execute(
        insert(trusted_documents)
        .values(rows)
        .on_conflict_do_nothing(index_elements=["sha256"])
        .returning(trusted_documents.c.sha256)
    )
    return {row[0] for row in result}
