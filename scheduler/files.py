"""The files job: collection of unreferenced files (files/collection.py) on an interval.

``collect_once`` is replica-safe already (``FOR UPDATE SKIP LOCKED`` claims, per-CID unpin
locks), so every scheduler may run it; ``unityplan files collect`` runs the same pass by hand.
Its interval is FILES_COLLECT_INTERVAL_SECONDS (scheduler.runtime applies it); a file becomes a
candidate only after FILE_UNREFERENCED_GRACE_SECONDS, so a pass every few minutes is plenty.
"""

from __future__ import annotations

from datetime import timedelta

from files.collection import collect_once
from scheduler.registry import Job, JobContext, register


async def collect_files(ctx: JobContext) -> int:
    """One collection pass at ``ctx.now``; the number of files deleted."""
    if ctx.storage is None:
        raise RuntimeError("files.collect needs the scheduler's FileStorage (ctx.storage)")
    report = await collect_once(ctx.db, ctx.storage, ctx.node_id, now=ctx.now)
    return report.deleted


register(Job("files.collect", every=timedelta(minutes=10), run=collect_files))
