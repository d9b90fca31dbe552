"""Pins shared across territories: a CID is unpinned only when no territory stores it any more.

The same bytes may be stored by several people in several territories (one row each, one pin on
the node). Deciding "nobody else uses this CID" and unpinning must not interleave with an upload
of the same bytes recording its row, or that row would point at unpinned content. Both sides take
a PostgreSQL advisory lock on the CID on the main server: the collector around "check every
territory, then unpin", an upload around "pin again" after its row committed. Whichever comes
second sees the other's result.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager

from sqlalchemy import func, select

from db import files as file_db
from db import territories as registry
from db.engines import Database
from files.ipfs import IpfsNode
from unityplan.settings import MAIN_SERVER


@asynccontextmanager
async def cid_locks(db: Database, cids: Sequence[str]) -> AsyncIterator[None]:
    """Hold the advisory lock of each CID (in a fixed order: no deadlock) until the block ends."""
    async with db.transaction(MAIN_SERVER) as conn:
        for cid in sorted(set(cids)):
            await conn.execute(
                select(func.pg_advisory_xact_lock(func.hashtextextended(f"ipfs:{cid}", 0)))
            )
        yield


async def in_use(db: Database, cids: Sequence[str]) -> set[str]:
    """Which of ``cids`` any territory on any reachable server still stores."""
    async with db.connect(MAIN_SERVER) as conn:
        records = await registry.all_records(conn)
    known = set(db.server_keys)
    found: set[str] = set()
    for record in records:
        if record.db_server not in known:
            continue
        async with db.connect(record.db_server, record.id) as conn:
            found |= await file_db.cids_in_use(conn, cids)
    return found


async def repin(db: Database, node: IpfsNode, cids: Sequence[str]) -> None:
    """Pin ``cids`` again under their locks, after their rows committed."""
    async with cid_locks(db, cids):
        for cid in cids:
            await node.pin(cid)


async def release(db: Database, node: IpfsNode, cids: Sequence[str]) -> list[str]:
    """Unpin each of ``cids`` no territory stores; the ones unpinned."""
    if not cids:
        return []
    unpinned = []
    async with cid_locks(db, cids):
        used = await in_use(db, cids)
        for cid in sorted(set(cids) - used):
            if await node.unpin(cid):
                unpinned.append(cid)
    return unpinned
