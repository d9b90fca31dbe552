"""Badge events reach their holder as notifications (through the notifications consumer's apply
step on the real database), and never the person who caused them."""

from __future__ import annotations

from typing import Any

import httpx
from sqlalchemy import select

from db.engines import Database
from db.models import outbox
from domain.badges import Permission
from domain.events import Envelope
from graph import ids
from tests.authkit import account, call, define_badge, server_of
from tests.notifications.conftest import offline_notifier

AWARD = """
mutation($i: AwardBadgeInput!) { awardBadge(input: $i) { award { id } } }"""
REVOKE = """
mutation($i: RevokeBadgeAwardInput!) { revokeBadgeAward(input: $i) { award { id } } }"""
NOTES = "{ me { notifications(first: 10) { nodes { kind subject { id } } } } }"


async def badge_envelopes(db: Database, territory: str) -> list[Envelope]:
    async with db.connect(server_of(territory), territory) as conn:
        rows = await conn.execute(
            select(outbox.c.envelope)
            .where(outbox.c.subject.like("%.badge.%"))
            .order_by(outbox.c.id)
        )
        return [Envelope.from_json(r.envelope) for r in rows]


async def test_the_holder_hears_of_an_award_and_of_its_revocation(
    client: httpx.AsyncClient, db: Database
) -> None:
    manager = await account(client, db, "se", role="territory_manager")
    member = await account(client, db, "se")
    badge = await define_badge(db, "se", permissions=(Permission.FORUM_READ,))
    badge_id = ids.encode("Badge", "se", str(badge.id))
    token = manager["accessToken"]
    request = {"badge": badge_id, "recipient": member["user"]["id"], "reason": "helped out"}
    awarded = await call(client, AWARD, {"i": request}, token)
    assert "errors" not in awarded, awarded
    award_id = awarded["data"]["awardBadge"]["award"]["id"]
    revoked = await call(client, REVOKE, {"i": {"award": award_id, "reason": "spam"}}, token)
    assert "errors" not in revoked, revoked

    notifier = offline_notifier(db)
    mine = [e for e in await badge_envelopes(db, "se") if e.subjects.get("award") == award_id]
    assert [e.type for e in mine] == ["badge.awarded", "badge.revoked"]
    for envelope in mine:
        assert await notifier.apply(envelope) == 1

    body = await call(client, NOTES, token=member["accessToken"])
    assert "errors" not in body, body
    notes: list[dict[str, Any]] = body["data"]["me"]["notifications"]["nodes"]
    assert notes == [
        {"kind": "BADGE_REVOKED", "subject": {"id": award_id}},
        {"kind": "BADGE_AWARDED", "subject": {"id": award_id}},
    ]
    manager_notes = await call(client, NOTES, token=token)
    assert manager_notes["data"]["me"]["notifications"]["nodes"] == []
