"""The collection job: unreferenced files past the grace period are deleted with a file.deleted
event, and unpinned unless another row (any territory) stores the same bytes; the scheduler runs
it (job files.collect) on FILES_COLLECT_INTERVAL_SECONDS."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy import select

from db.engines import Database
from db.models import files, outbox
from files.collection import collect_once
from files.storage import FileStorage
from graph import ids
from scheduler.runner import Scheduler
from scheduler.runtime import configured
from tests.authkit import account, call, cli, server_of
from tests.files import key_of, png, upload, uploaded
from unityplan.settings import Settings

LATER = datetime.now(UTC) + timedelta(days=2)


@pytest.fixture
async def storage(settings: Settings) -> AsyncIterator[FileStorage]:
    found = FileStorage.from_settings(settings)
    yield found
    await found.node.close()


async def exists(db: Database, territory: str, file_id: str) -> bool:
    async with db.connect(server_of(territory), territory) as conn:
        found = await conn.execute(select(files.c.id).where(files.c.id == key_of(file_id)))
        return found.one_or_none() is not None


async def deleted_events(db: Database, territory: str, file_id: str) -> int:
    async with db.connect(server_of(territory), territory) as conn:
        rows = await conn.execute(
            select(outbox.c.envelope).where(outbox.c.subject.like("%.file.deleted"))
        )
        return sum(1 for (e,) in rows if e["payload"]["file_id"] == str(key_of(file_id)))


async def test_unreferenced_files_are_collected_and_unpinned(
    client: httpx.AsyncClient, db: Database, storage: FileStorage
) -> None:
    token = (await account(client, db, "se"))["accessToken"]
    file = uploaded(await upload(client, token, b"a draft never used\n" * 50))["file"]
    assert file["cid"] in await storage.node.pins()
    early = await collect_once(db, storage, ids.encode, now=datetime.now(UTC))
    assert await exists(db, "se", file["id"])  # inside the grace period
    report = await collect_once(db, storage, ids.encode, now=LATER)
    assert report.deleted >= 1
    assert not await exists(db, "se", file["id"])
    assert file["cid"] not in await storage.node.pins()
    assert file["cid"] in report.unpinned
    assert await deleted_events(db, "se", file["id"]) == 1
    again = await collect_once(db, storage, ids.encode, now=LATER)
    assert again.deleted == 0
    assert file["cid"] not in early.unpinned


async def test_an_avatar_stays_and_shared_bytes_stay_pinned(
    client: httpx.AsyncClient, db: Database, storage: FileStorage
) -> None:
    mine = (await account(client, db, "dk"))["accessToken"]
    theirs = (await account(client, db, "se"))["accessToken"]
    avatar = uploaded(await upload(client, mine, png(color=(1, 2, 3)), purpose="AVATAR"))["file"]
    body = await call(
        client,
        "mutation($i: UpdateProfileInput!) { updateProfile(input: $i) { profile { id } } }",
        {"i": {"avatar": avatar["id"]}},
        mine,
    )
    assert "errors" not in body, body
    shared = b"the same bytes in two territories\n" * 20
    dk_copy = uploaded(await upload(client, mine, shared))["file"]
    se_copy = uploaded(await upload(client, theirs, shared))["file"]
    assert dk_copy["cid"] == se_copy["cid"]
    async with db.transaction(server_of("se"), "se") as conn:  # only the se copy is old enough
        await conn.execute(
            files.update()
            .where(files.c.id == key_of(se_copy["id"]))
            .values(created_at=datetime.now(UTC) - timedelta(days=3))
        )
    await collect_once(db, storage, ids.encode)
    assert not await exists(db, "se", se_copy["id"])
    assert await exists(db, "dk", dk_copy["id"])
    assert dk_copy["cid"] in await storage.node.pins()  # dk still stores it
    await collect_once(db, storage, ids.encode, now=LATER)
    assert await exists(db, "dk", avatar["id"])  # referenced by the profile
    assert avatar["cid"] in await storage.node.pins()
    assert not await exists(db, "dk", dk_copy["id"])
    assert dk_copy["cid"] not in await storage.node.pins()


async def test_replicas_collect_each_file_once(
    client: httpx.AsyncClient, db: Database, storage: FileStorage
) -> None:
    token = (await account(client, db, "dk"))["accessToken"]
    made = [
        uploaded(await upload(client, token, f"file {n}\n".encode() * 30))["file"] for n in range(4)
    ]
    reports = await asyncio.gather(
        *(collect_once(db, storage, ids.encode, now=LATER, batch=2) for _ in range(3))
    )
    for file in made:
        assert not await exists(db, "dk", file["id"])
        assert await deleted_events(db, "dk", file["id"]) == 1
    assert sum(r.deleted for r in reports) >= len(made)


async def test_the_cli_runs_one_pass(db: Database) -> None:
    status, out, err = await cli(db, "files", "collect")
    assert status == 0, err
    assert out.startswith("deleted ")


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


async def test_the_scheduler_collects_once_with_two_instances(
    client: httpx.AsyncClient, db: Database, storage: FileStorage, settings: Settings
) -> None:
    every = settings.model_copy(update={"files_collect_interval_seconds": 90})
    (job,) = [j for j in configured(every) if j.name == "files.collect"]
    assert job.every == timedelta(seconds=90)  # the setting, not the registered default
    clock = Clock(datetime.now(UTC))
    pair = [  # two replicas, as two processes would run it, sharing the database and IPFS node
        Scheduler(db, node_id=ids.encode, storage=storage, clock=clock, jobs=[job])
        for _ in range(2)
    ]
    token = (await account(client, db, "se"))["accessToken"]
    file = uploaded(await upload(client, token, b"scheduled for collection\n" * 40))["file"]

    async def run_both() -> list[dict[str, int]]:
        return list(await asyncio.gather(*(s.run_due() for s in pair)))

    assert all("files.collect" in done for done in await run_both())
    assert await exists(db, "se", file["id"])  # inside the grace period
    assert file["cid"] in await storage.node.pins()
    clock.now = LATER
    first = await run_both()
    assert sum(done["files.collect"] for done in first) >= 1
    assert not await exists(db, "se", file["id"])
    assert file["cid"] not in await storage.node.pins()
    assert await deleted_events(db, "se", file["id"]) == 1
    clock.now = LATER + timedelta(seconds=60)
    assert await run_both() == [{}, {}]  # not due again before the interval
    clock.now = LATER + timedelta(seconds=91)
    assert await run_both() == [{"files.collect": 0}, {"files.collect": 0}]
    assert await deleted_events(db, "se", file["id"]) == 1


async def test_the_job_fails_loudly_without_storage(db: Database, settings: Settings) -> None:
    (job,) = [j for j in configured(settings) if j.name == "files.collect"]
    done = await Scheduler(db, node_id=ids.encode, jobs=[job]).run_due()
    assert done == {}  # failed (logged), retried on the next tick; never a silent 0
