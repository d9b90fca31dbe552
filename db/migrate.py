"""Running the two Alembic trees, serialised across processes by an advisory lock.

All schema changes (``migrate``, ``territory create``, ``territory import``) take the same
session-level advisory lock on the main server, so two operators running them at once end with every
schema at head instead of racing on ``CREATE SCHEMA`` or the version tables.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, func, select
from sqlalchemy.schema import CreateSchema, DropSchema

from alembic import command
from db import territories as registry
from db.badges import ensure_core_badges
from db.engines import Database
from db.models import GLOBAL_SCHEMA, TERRITORY_PLACEHOLDER
from domain.badges import GLOBAL_HOME
from domain.territories import TerritoryStatus, schema_name
from unityplan.settings import MAIN_SERVER

ALEMBIC_DIR = Path(__file__).resolve().parent.parent / "alembic"
# Arbitrary but fixed: "unitypla" as a 64-bit integer.
MIGRATION_LOCK_KEY = 0x756E6974_79706C61


def _config(tree: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(ALEMBIC_DIR / tree))
    return cfg


def head_revision(tree: str) -> str:
    head = ScriptDirectory.from_config(_config(tree)).get_current_head()
    assert head is not None
    return head


@asynccontextmanager
async def migration_lock(db: Database) -> AsyncIterator[None]:
    """Hold the cluster-wide schema-change lock (waits for another holder to finish)."""
    async with db.engine(MAIN_SERVER).connect() as conn:
        await conn.execute(select(func.pg_advisory_lock(MIGRATION_LOCK_KEY)))
        await conn.commit()
        try:
            yield
        finally:
            await conn.execute(select(func.pg_advisory_unlock(MIGRATION_LOCK_KEY)))
            await conn.commit()


async def _ensure_schema(db: Database, server: str, schema: str) -> None:
    async with db.transaction(server) as conn:
        await conn.execute(CreateSchema(schema, if_not_exists=True))


async def upgrade_global(db: Database, revision: str = "head") -> None:
    await _ensure_schema(db, MAIN_SERVER, GLOBAL_SCHEMA)
    cfg = _config("global")

    def run(sync_conn: Connection) -> None:
        cfg.attributes["connection"] = sync_conn
        command.upgrade(cfg, revision)

    async with db.engine(MAIN_SERVER).connect() as conn:
        await conn.run_sync(run)


async def upgrade_territory(
    db: Database, server: str, territory_id: str, revision: str = "head"
) -> None:
    """Create ``territory_<id>`` on ``server`` if needed and bring it to ``revision``."""
    schema = schema_name(territory_id)
    await _ensure_schema(db, server, schema)
    cfg = _config("territory")
    cfg.attributes["schema"] = schema

    def run(sync_conn: Connection) -> None:
        sync_conn.execution_options(schema_translate_map={TERRITORY_PLACEHOLDER: schema})
        cfg.attributes["connection"] = sync_conn
        command.upgrade(cfg, revision)

    async with db.engine(server).connect() as conn:
        await conn.run_sync(run)


async def territory_revision(db: Database, server: str, territory_id: str) -> str | None:
    schema = schema_name(territory_id)

    def current(sync_conn: Connection) -> str | None:
        ctx = MigrationContext.configure(sync_conn, opts={"version_table_schema": schema})
        return ctx.get_current_revision()

    async with db.engine(server).connect() as conn:
        return await conn.run_sync(current)


async def migrate_all(db: Database) -> list[str]:
    """Upgrade ``global`` and then every registered territory; returns the territories touched."""
    async with migration_lock(db):
        await upgrade_global(db)
        async with db.transaction(MAIN_SERVER) as conn:
            await ensure_core_badges(conn, GLOBAL_HOME)
        async with db.connect(MAIN_SERVER) as conn:
            records = await registry.all_records(conn)
        for record in records:
            await upgrade_territory(db, record.db_server, record.id)
            await provision_core_badges(db, record.db_server, record.id)
            if record.status is TerritoryStatus.PROVISIONING:
                async with db.transaction(MAIN_SERVER) as conn:
                    await registry.set_status(conn, record.id, TerritoryStatus.ACTIVE)
        return [r.id for r in records]


async def provision_core_badges(db: Database, server: str, territory_id: str) -> None:
    """The core badges every territory has (domain.badges.TERRITORY_CORE_BADGES), so a new
    territory gets them and an existing one gains those added since; idempotent."""
    async with db.transaction(server, territory_id) as conn:
        await ensure_core_badges(conn, territory_id)


async def drop_territory_schema(db: Database, server: str, territory_id: str) -> None:
    schema = schema_name(territory_id)
    async with db.transaction(server) as conn:
        await conn.execute(DropSchema(schema, cascade=True, if_exists=True))
