"""Start and stop the scheduler of one process: the API's lifespan or ``unityplan scheduler``.

It gets a small pool of its own (as the relay does), so its jobs never take a request's
connection nor show in a request's statement count, and a FileStorage (IPFS client) of its own
built from settings as the API builds one, for the files job.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import timedelta

from db.engines import Database
from domain.clock import Clock, utc_now
from domain.events import NodeIdEncoder
from files.storage import FileStorage
from scheduler import jobs
from scheduler.registry import JOBS, Job
from scheduler.runner import Scheduler
from unityplan.settings import Settings

assert jobs.AREAS  # every area's jobs are registered before a scheduler starts


@dataclass
class RunningScheduler:
    scheduler: Scheduler
    db: Database
    storage: FileStorage

    async def stop(self) -> None:
        await self.scheduler.stop()
        await self.storage.node.close()
        await self.db.dispose()


def configured(settings: Settings) -> list[Job]:
    """The registered jobs, with the intervals settings give (the others keep their own)."""
    intervals = {"files.collect": timedelta(seconds=settings.files_collect_interval_seconds)}
    return [dataclasses.replace(j, every=intervals.get(j.name, j.every)) for j in JOBS.values()]


def start_scheduler(
    settings: Settings, *, node_id: NodeIdEncoder, clock: Clock = utc_now
) -> RunningScheduler:
    db = Database(settings.servers(), pool_size=2)
    storage = FileStorage.from_settings(settings)
    scheduler = Scheduler(
        db,
        node_id=node_id,
        storage=storage,
        clock=clock,
        jobs=configured(settings),
        tick=settings.scheduler_tick_seconds,
    )
    scheduler.start()
    return RunningScheduler(scheduler, db, storage)
