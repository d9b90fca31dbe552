"""Outbox rows are written in the change's own transaction, through territory_change."""

from __future__ import annotations

import uuid

from sqlalchemy import select

from db import events as outbox_db
from db.engines import Database
from db.models import global_outbox, outbox
from graph import ids
from tests.authkit import server_of
from tests.events.conftest import Emitter
from unityplan.settings import MAIN_SERVER


async def rows(db: Database, territory: str | None, wanted: set[uuid.UUID]) -> list[dict]:
    server = MAIN_SERVER if territory is None else server_of(territory)
    table = global_outbox if territory is None else outbox
    async with db.connect(server, territory) as conn:
        found = await conn.execute(select(table).where(table.c.id.in_(wanted)))
        return [dict(r._mapping) for r in found]


async def test_committed_change_writes_its_events(emitter: Emitter, db: Database) -> None:
    wanted = await emitter.ids("dk", 3)
    found = await rows(db, "dk", wanted)
    assert {r["id"] for r in found} == wanted
    for row in found:
        envelope = row["envelope"]
        assert row["sent_at"] is None
        assert row["attempts"] == 0
        assert row["subject"] == "unityplan.dk.community.created"
        assert envelope["id"] == str(row["id"])
        assert envelope["type"] == "community.created"
        assert envelope["version"] == 1
        assert envelope["territory"] == "dk"
        assert envelope["actor"] == emitter.user_id
        community = envelope["payload"]["community_id"]
        assert envelope["subjects"] == {"community": ids.encode("Community", "dk", community)}


async def test_event_ids_are_time_ordered(emitter: Emitter) -> None:
    first = await emitter.ids("dk", 1)
    second = await emitter.ids("dk", 1)
    assert max(first) < min(second)
    assert all(i.version == 7 for i in first | second)


async def test_rolled_back_change_writes_no_event(emitter: Emitter, db: Database) -> None:
    async with db.connect(MAIN_SERVER, "dk") as conn:
        before = await outbox_db.unsent_count(conn, "dk")
    result = await emitter.emit("dk", 2, fail=True)
    assert result.errors is not None
    assert result.errors[0].original_error.code == "BAD_USER_INPUT"  # type: ignore[union-attr]
    async with db.connect(MAIN_SERVER, "dk") as conn:
        assert await outbox_db.unsent_count(conn, "dk") == before


async def test_territory_on_another_server_keeps_its_events_there(
    emitter: Emitter, db: Database
) -> None:
    wanted = await emitter.ids("se", 2)
    assert server_of("se") != MAIN_SERVER
    assert {r["id"] for r in await rows(db, "se", wanted)} == wanted
    assert await rows(db, None, wanted) == []


ELSEWHERE = "mutation($t: String!, $o: String!) { emitElsewhere(territory: $t, other: $o) }"
GRANT = """
mutation($t: String!, $u: String!, $f: Boolean!) { grantEvent(territory: $t, userId: $u, fail: $f) }
"""


async def test_an_event_of_another_territory_is_refused(emitter: Emitter) -> None:
    result = await emitter.run(ELSEWHERE, t="dk", o="no")
    assert result.errors is not None
    assert isinstance(result.errors[0].original_error, ValueError)
    assert "'no'" in str(result.errors[0].original_error)


async def test_global_events_join_the_global_transaction(emitter: Emitter, db: Database) -> None:
    grantee = uuid.uuid4()
    result = await emitter.run(GRANT, t="dk", u=str(grantee), f=False)
    assert result.errors is None, result.errors
    (row,) = await rows(db, None, {uuid.UUID(result.data["grantEvent"])})
    assert row["subject"] == "unityplan.dk.role.granted"
    assert row["envelope"]["actor"] == emitter.user_id
    assert row["envelope"]["subjects"] == {"user": ids.encode("User", "dk", str(grantee))}
    assert row["envelope"]["payload"] == {
        "user_id": str(grantee),
        "user_territory": "dk",
        "role": "moderator",
    }
    async with db.connect(MAIN_SERVER) as conn:
        before = await outbox_db.unsent_count(conn, None)
    failed = await emitter.run(GRANT, t="dk", u=str(grantee), f=True)
    assert failed.errors is not None
    async with db.connect(MAIN_SERVER) as conn:
        assert await outbox_db.unsent_count(conn, None) == before
