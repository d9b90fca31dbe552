"""The job registry: one line registers a job.

    register(Job("files.unpin", every=timedelta(minutes=5), run=collect_unpinned))

A job is ``async def run(ctx: JobContext) -> int`` (how many things it did, for the log): it
reads ``ctx.now`` (the injected clock, never the wall clock), ``ctx.db`` and ``ctx.storage``,
and must be safe to run concurrently with itself on another replica (claim before acting).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from db.engines import Database
from domain.events import NodeIdEncoder
from files.storage import FileStorage


@dataclass(frozen=True, slots=True)
class JobContext:
    db: Database
    now: datetime
    # Renders event subjects as Relay global ids (graph.ids.encode, injected by the caller).
    node_id: NodeIdEncoder
    # The IPFS node and file limits (files.storage), built from settings by scheduler.runtime;
    # None where a scheduler runs no file job (a test driving only badge jobs).
    storage: FileStorage | None = None


@dataclass(frozen=True, slots=True)
class Job:
    name: str
    every: timedelta
    run: Callable[[JobContext], Awaitable[int]]


JOBS: dict[str, Job] = {}


def register(job: Job) -> Job:
    if job.name in JOBS:
        raise ValueError(f"a job named {job.name!r} is registered already")
    JOBS[job.name] = job
    return job
