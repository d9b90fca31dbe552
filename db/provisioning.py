"""Creating databases and territories: the registry row, the schema and its migrations together."""

from __future__ import annotations

import asyncpg
from sqlalchemy.engine import make_url

from db import territories as registry
from db.engines import Database
from db.migrate import migration_lock, provision_core_badges, upgrade_territory
from domain.errors import BadUserInput
from domain.territories import TerritoryKind, TerritoryStatus, validate_new_territory
from unityplan.settings import MAIN_SERVER


async def ensure_database(dsn: str) -> bool:
    """Create the DSN's database if the server lacks it; True when it was created."""
    url = make_url(dsn)
    name = url.database
    if not name:
        raise ValueError("the database URL names no database")
    admin = url.set(drivername="postgresql", database="postgres")
    conn = await asyncpg.connect(admin.render_as_string(hide_password=False))
    try:
        exists = await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name)
        if exists:
            return False
        # CREATE DATABASE takes no parameters; quote the identifier the server's own way.
        quoted = await conn.fetchval("SELECT quote_ident($1)", name)
        await conn.execute(f"CREATE DATABASE {quoted}")
        return True
    finally:
        await conn.close()


async def create_territory(
    db: Database,
    *,
    territory_id: str,
    name: str,
    kind: TerritoryKind,
    parent_id: str | None = None,
    server: str = MAIN_SERVER,
) -> registry.TerritoryRecord:
    """Register a territory, build its schema on ``server`` at head and mark it active.

    The registry row is written first as ``provisioning``: a crash midway leaves a row that
    ``migrate`` finishes, never a schema the registry does not know about.
    """
    validate_new_territory(territory_id, kind, parent_id)
    if not name.strip():
        raise BadUserInput("A territory needs a name.")
    if server not in db.server_keys:
        raise BadUserInput(f"Unknown database server '{server}'.")
    async with migration_lock(db):
        async with db.transaction(MAIN_SERVER) as conn:
            if parent_id is not None and parent_id not in await registry.by_ids(conn, [parent_id]):
                raise BadUserInput(f"Parent territory '{parent_id}' does not exist.")
            created = await registry.insert_provisioning(
                conn,
                territory_id=territory_id,
                name=name.strip(),
                kind=kind,
                parent_id=parent_id,
                db_server=server,
            )
            if not created:
                raise BadUserInput(f"Territory '{territory_id}' already exists.")
        await upgrade_territory(db, server, territory_id)
        await provision_core_badges(db, server, territory_id)
        async with db.transaction(MAIN_SERVER) as conn:
            await registry.set_status(conn, territory_id, TerritoryStatus.ACTIVE)
            return (await registry.by_ids(conn, [territory_id]))[territory_id]
