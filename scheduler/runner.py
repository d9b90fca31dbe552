"""Runs the registered jobs on their intervals, with an injectable clock.

``run_due`` runs every job whose interval has passed since it last ran in this process (all of
them on the first call: catch-up after downtime happens there, since each job works from the
state in the database, not from what it remembers). ``run_forever`` calls it every ``tick``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Iterable
from datetime import datetime

from db.engines import Database
from domain.clock import Clock, utc_now
from domain.events import NodeIdEncoder
from files.storage import FileStorage
from scheduler.registry import JOBS, Job, JobContext

log = logging.getLogger("unityplan.scheduler")


class Scheduler:
    def __init__(
        self,
        db: Database,
        *,
        node_id: NodeIdEncoder,
        storage: FileStorage | None = None,
        clock: Clock = utc_now,
        jobs: Iterable[Job] | None = None,
        tick: float = 5.0,
    ) -> None:
        self.db = db
        self.node_id = node_id
        self.storage = storage
        self.clock = clock
        self.jobs = list(JOBS.values() if jobs is None else jobs)
        self.tick = tick
        self._last: dict[str, datetime] = {}
        self._task: asyncio.Task[None] | None = None

    async def run_due(self) -> dict[str, int]:
        """Run the jobs that are due now; what each did. A failing job is logged and retried on
        the next tick; the others still run."""
        now = self.clock()
        done: dict[str, int] = {}
        for job in self.jobs:
            last = self._last.get(job.name)
            if last is not None and now - last < job.every:
                continue
            try:
                done[job.name] = await job.run(JobContext(self.db, now, self.node_id, self.storage))
            except Exception:
                log.exception("scheduled job failed", extra={"job": job.name})
                continue
            self._last[job.name] = now
        return done

    async def run_forever(self) -> None:
        while True:
            await self.run_due()
            await asyncio.sleep(self.tick)

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self.run_forever())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
