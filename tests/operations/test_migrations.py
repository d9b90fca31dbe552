"""``migrate`` is idempotent and safe to run concurrently; territories are built at head."""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from db import territories as registry
from db.engines import Database
from db.migrate import head_revision, migrate_all, territory_revision
from domain.territories import TerritoryKind, TerritoryStatus
from tests.conftest import CHECKOUT, MAIN_DSN, StatementCounter, drop_database, recreate_database

CLI = str(Path(sys.executable).parent / "unityplan")
SCRATCH_DSN = (
    make_url(MAIN_DSN).set(database=f"unityplan_migrate_{os.getpid()}").render_as_string(False)
)

SNAPSHOT = text(
    "SELECT table_schema, table_name, column_name, data_type, is_nullable, "
    "coalesce(column_default, '') FROM information_schema.columns "
    "WHERE table_schema = 'global' OR table_schema LIKE 'territory%' ORDER BY 1, 2, 3"
)


async def snapshot(db: Database, server: str) -> list[tuple[object, ...]]:
    async with db.connect(server) as conn:
        return [tuple(r) for r in await conn.execute(SNAPSHOT)]


async def test_migrate_twice_is_a_noop(db: Database, statements: StatementCounter) -> None:
    before = {s: await snapshot(db, s) for s in db.server_keys}
    statements.statements.clear()
    await migrate_all(db)
    ddl = [
        sql
        for _, sql in statements.statements
        if sql.lstrip().upper().startswith(("CREATE TABLE", "ALTER", "DROP", "CREATE INDEX"))
    ]
    assert ddl == []
    assert {s: await snapshot(db, s) for s in db.server_keys} == before
    async with db.connect("main") as conn:
        records = await registry.all_records(conn)
    for record in records:
        assert await territory_revision(db, record.db_server, record.id) == head_revision(
            "territory"
        )


async def run_cli(*args: str) -> tuple[int, str]:
    env = {
        **os.environ,
        "DATABASE_URL": SCRATCH_DSN,
        "DATABASE_SERVERS": "{}",
        "PYTHONPATH": CHECKOUT,
    }
    proc = await asyncio.create_subprocess_exec(
        CLI, *args, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT
    )
    out, _ = await proc.communicate()
    return proc.returncode or 0, out.decode()


@pytest.fixture
async def scratch() -> AsyncIterator[Database]:
    await recreate_database(SCRATCH_DSN)
    database = Database({"main": SCRATCH_DSN}, pool_size=2)
    try:
        yield database
    finally:
        await database.dispose()
        await drop_database(SCRATCH_DSN)


async def test_concurrent_migrate_runs_end_consistent(scratch: Database) -> None:
    results = await asyncio.gather(run_cli("migrate"), run_cli("migrate"))
    assert [code for code, _ in results] == [0, 0], results
    results = await asyncio.gather(
        run_cli("territory", "create", "dk", "--name", "Denmark", "--kind", "country"),
        run_cli("territory", "create", "dk", "--name", "Denmark", "--kind", "country"),
    )
    assert sorted(code for code, _ in results) == [0, 2], results
    assert any("already exists" in out for _, out in results)

    # A territory registered but never built (a crash after the registry insert): two concurrent
    # migrate runs build it once and activate it.
    async with scratch.transaction("main") as conn:
        await registry.insert_provisioning(
            conn,
            territory_id="no",
            name="Norway",
            kind=TerritoryKind.COUNTRY,
            parent_id=None,
            db_server="main",
        )
    results = await asyncio.gather(*(run_cli("migrate") for _ in range(3)))
    assert [code for code, _ in results] == [0, 0, 0], results
    async with scratch.connect("main") as conn:
        records = await registry.all_records(conn)
    assert {(r.id, r.status) for r in records} == {
        ("dk", TerritoryStatus.ACTIVE),
        ("no", TerritoryStatus.ACTIVE),
    }
    for tid in ("dk", "no"):
        assert await territory_revision(scratch, "main", tid) == head_revision("territory")
    code, out = await run_cli("territory", "list")
    assert code == 0
    assert "dk\tcountry\tactive\tmain\tDenmark" in out


async def test_cli_rejects_bad_territory_ids(scratch: Database) -> None:
    code, _ = await run_cli("migrate")
    assert code == 0
    bad_ids = ("DK", "dk;drop", "../x", "xx")
    # Side by side: each is a process start (most of this test's time) and none writes.
    results = await asyncio.gather(
        *(
            run_cli("territory", "create", bad, "--name", "X", "--kind", "country")
            for bad in bad_ids
        )
    )
    for bad, (code, out) in zip(bad_ids, results, strict=True):
        assert code == 2, (bad, out)
        assert "error:" in out, bad
        assert "Traceback" not in out, bad
