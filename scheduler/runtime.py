"""Start and stop the scheduler of one process: the API's lifespan or ``unityplan scheduler``.

It gets a small pool of its own (as the relay does), so its jobs never take a request's
connection nor show in a request's statement count.
"""

from __future__ import annotations

from dataclasses import dataclass

from db.engines import Database
from domain.clock import Clock, utc_now
from domain.events import NodeIdEncoder
from scheduler import jobs
from scheduler.registry import JOBS
from scheduler.runner import Scheduler
from unityplan.settings import Settings

assert jobs.AREAS  # every area's jobs are registered before a scheduler starts


@dataclass
class RunningScheduler:
    scheduler: Scheduler
    db: Database

    async def stop(self) -> None:
        await self.scheduler.stop()
        await self.db.dispose()


def start_scheduler(
    settings: Settings, *, node_id: NodeIdEncoder, clock: Clock = utc_now
) -> RunningScheduler:
    db = Database(settings.servers(), pool_size=2)
    scheduler = Scheduler(
        db, node_id=node_id, clock=clock, jobs=JOBS.values(), tick=settings.scheduler_tick_seconds
    )
    scheduler.start()
    return RunningScheduler(scheduler, db)
