"""Synthetic awards for the credential tests that need facts no real award has (an expired
window, a foreign issuer, an unknown territory, a rotated key, the pure rules).

Tests of the export itself award a real badge through ``awardBadge`` and export it
(``test_credential_export.py``, ``tests/access``).
"""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from db import credentials as credential_db
from db.engines import Database
from domain.credentials import AwardFacts, StatusEntry
from tests.authkit import server_of

TERRITORY_NAMES = {"dk": "Denmark", "se": "Sweden", "no": "Norway"}


def synthetic_facts(territory: str, status: StatusEntry, **changes: Any) -> AwardFacts:
    """An award of a made-up badge definition (version 2) in ``territory``, valid for a year."""
    now = datetime.now(UTC).replace(microsecond=0)
    facts = AwardFacts(
        award_id=uuid.uuid4(),
        recipient_user_id=uuid.uuid4(),
        recipient_territory_id=territory,
        definition_id=uuid.uuid4(),
        version=2,
        name="Teamwork",
        description="Worked well with others on a community project.",
        criteria="Led one community project from start to finish.",
        image_url="https://example.org/badges/teamwork.png",
        issuer_territory_id=territory,
        issuer_name=TERRITORY_NAMES.get(territory, territory),
        awarded_at=now - timedelta(days=30),
        valid_from=now - timedelta(days=1),
        valid_until=now + timedelta(days=365),
        status=status,
    )
    return replace(facts, **changes)


async def issue(
    db: Database, territory: str, public_url: str, **changes: Any
) -> tuple[AwardFacts, str]:
    """Allocate a status bit for a new synthetic award and issue its credential, in one commit."""
    award_id = uuid.uuid4()
    async with db.transaction(server_of(territory), territory) as conn:
        status = await credential_db.allocate_status_index(conn, award_id)
        facts = synthetic_facts(territory, status, award_id=award_id, **changes)
        token = await credential_db.issue_credential(conn, facts, public_url=public_url)
    return facts, token


async def revoke(db: Database, territory: str, award_id: uuid.UUID) -> None:
    async with db.transaction(server_of(territory), territory) as conn:
        await credential_db.revoke(conn, award_id)
