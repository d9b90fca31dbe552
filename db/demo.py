"""Demo territories and communities for ``make run``: enough to explore the graph in GraphiQL."""

from __future__ import annotations

import uuid

from sqlalchemy.dialects.postgresql import insert

from db import territories as registry
from db.engines import Database
from db.models import communities
from db.provisioning import create_territory
from domain.territories import TerritoryKind
from unityplan.settings import MAIN_SERVER

DEMO_TERRITORIES: list[tuple[str, str, TerritoryKind, str | None]] = [
    ("global", "UnityPlan Global", TerritoryKind.GLOBAL, None),
    ("dk", "Denmark", TerritoryKind.COUNTRY, None),
    ("no", "Norway", TerritoryKind.COUNTRY, None),
    ("se", "Sweden", TerritoryKind.COUNTRY, None),
    ("fn_sami", "Sápmi", TerritoryKind.FIRST_NATION, None),
    ("c_dk_aarhus", "Aarhus Commons", TerritoryKind.COMMUNITY, "dk"),
]

DEMO_COMMUNITIES: dict[str, list[tuple[str, str, str, bool]]] = {
    "global": [("federation-stewards", "Federation Stewards", "Care for the commons.", True)],
    "dk": [
        ("permakultur", "Permakultur Danmark", "Growing food together.", True),
        ("repair-cafe", "Repair Café", "Fix things, share skills.", True),
        ("board", "Territory Board", "Invite-only stewardship circle.", False),
    ],
    "no": [("kystliv", "Kystliv", "Coastal living and learning.", True)],
    "se": [("folkbildning", "Folkbildning", "Study circles across Sweden.", True)],
    "fn_sami": [("duodji", "Duodji", "Sámi handicraft, taught by elders.", True)],
    "c_dk_aarhus": [("aarhus-garden", "Aarhus Community Garden", "Weekly garden days.", True)],
}


async def seed_demo(db: Database, server_for: dict[str, str] | None = None) -> list[str]:
    """Create missing demo territories and their communities; returns the territories created."""
    created: list[str] = []
    async with db.connect(MAIN_SERVER) as conn:
        existing = await registry.by_ids(conn, [t[0] for t in DEMO_TERRITORIES])
    for territory_id, name, kind, parent in DEMO_TERRITORIES:
        if territory_id not in existing:
            server = (server_for or {}).get(territory_id, MAIN_SERVER)
            record = await create_territory(
                db,
                territory_id=territory_id,
                name=name,
                kind=kind,
                parent_id=parent,
                server=server,
            )
            existing[territory_id] = record
            created.append(territory_id)
        record = existing[territory_id]
        rows = [
            {
                "id": uuid.uuid5(uuid.NAMESPACE_URL, f"unityplan:{territory_id}:{slug}"),
                "slug": slug,
                "name": cname,
                "description": description,
                "is_public": public,
            }
            for slug, cname, description, public in DEMO_COMMUNITIES.get(territory_id, [])
        ]
        if rows:
            async with db.transaction(record.db_server, territory_id) as conn:
                await conn.execute(
                    insert(communities).values(rows).on_conflict_do_nothing(index_elements=["id"])
                )
    return created
