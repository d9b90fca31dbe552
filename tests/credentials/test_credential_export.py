"""Real badge awards exported as credentials (``exportBadgeCredential``), verified, revoked and
renewed through the public surface, in territories on both database servers."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import jsonschema
import jwt
import pytest

from db.engines import Database
from domain.badges import Permission
from graph import ids
from tests.authkit import account, call, codes, define_badge
from tests.conftest import StatementCounter
from tests.credentials.test_credential_queries import failed, verified
from unityplan.settings import Settings

SCHEMA = json.loads(
    (Path(__file__).parent / "ob_v3p0_achievementcredential_subset.schema.json").read_text()
)
AWARD = """
mutation($i: AwardBadgeInput!) { awardBadge(input: $i) { award { id awardedAt } } }"""
REVOKE = """
mutation($i: RevokeBadgeAwardInput!) { revokeBadgeAward(input: $i) { revokedNow } }"""
UPDATE = """
mutation($i: UpdateBadgeInput!) { updateBadge(input: $i) { badge { version } } }"""
EXPORT = """
mutation($i: ExportBadgeCredentialInput!) {
  exportBadgeCredential(input: $i) { credential award { id status } }
}"""
# Measured: territory lookup, the award (loader), BEGIN, lock, its version, status bit, issuer key,
# audit (on main, as se is on the second server), COMMITs; the same for any award of any holder.
EXPORT_STATEMENTS = 11
ALL_PASSED = [
    ("FORMAT", "PASSED"),
    ("ISSUER_KEY", "PASSED"),
    ("SIGNATURE", "PASSED"),
    ("VALIDITY_WINDOW", "PASSED"),
    ("STATUS", "PASSED"),
]


async def awarded(
    client: httpx.AsyncClient, db: Database, territory: str
) -> tuple[dict[str, Any], dict[str, Any], str]:
    """A territory manager, a member, and the id of the award the manager gave the member
    through ``awardBadge`` (a territory badge valid for 30 days)."""
    manager = await account(client, db, territory, role="territory_manager")
    member = await account(client, db, territory)
    badge = await define_badge(
        db, territory, validity_days=30, permissions=(Permission.FORUM_POST,)
    )
    request = {
        "badge": ids.encode("Badge", badge.home, str(badge.id)),
        "recipient": member["user"]["id"],
        "reason": "ran the spring meetup",
    }
    body = await call(client, AWARD, {"i": request}, manager["accessToken"])
    assert "errors" not in body, body
    return manager, member, body["data"]["awardBadge"]["award"]["id"]


async def badge_of(
    client: httpx.AsyncClient, award_id: str, holder: dict[str, Any]
) -> dict[str, Any]:
    """The awarded ``Badge``'s id and (current) name, as its holder reads them."""
    body = await call(
        client,
        "query($id: ID!) { node(id: $id) { ... on BadgeAward { badge { id name } } } }",
        {"id": award_id},
        holder["accessToken"],
    )
    badge: dict[str, Any] = body["data"]["node"]["badge"]
    return badge


async def export(client: httpx.AsyncClient, award_id: str, token: str) -> dict[str, Any]:
    return await call(client, EXPORT, {"i": {"award": award_id}}, token)


def exported(body: dict[str, Any]) -> str:
    assert "errors" not in body, body
    credential: str = body["data"]["exportBadgeCredential"]["credential"]
    return credential


@pytest.mark.parametrize("territory", ["dk", "se"])
async def test_an_exported_award_verifies_until_it_is_revoked_and_again_once_renewed(
    client: httpx.AsyncClient, db: Database, territory: str
) -> None:
    manager, member, award_id = await awarded(client, db, territory)
    token = exported(await export(client, award_id, member["accessToken"]))
    result = await verified(client, token)
    assert result["valid"] is True, result
    assert [(c["kind"], c["outcome"]) for c in result["checks"]] == ALL_PASSED
    assert result["credentialId"] == f"urn:uuid:{ids.decode(award_id).key}"
    revoke = {"award": award_id, "reason": "broke the rules"}
    body = await call(client, REVOKE, {"i": revoke}, manager["accessToken"])
    assert body["data"]["revokeBadgeAward"]["revokedNow"] is True
    after = await verified(client, token)
    assert after["valid"] is False
    assert list(failed(after)) == ["STATUS"]
    refused = await export(client, award_id, member["accessToken"])
    assert codes(refused) == ["AWARD_REVOKED"]
    assert refused["errors"][0]["extensions"]["field"] == "award"
    request = {
        "badge": (await badge_of(client, award_id, member))["id"],
        "recipient": member["user"]["id"],
        "reason": "made amends",
    }
    renewed = await call(client, AWARD, {"i": request}, manager["accessToken"])
    assert "errors" not in renewed, renewed
    assert (await verified(client, token))["valid"] is True


async def test_the_credential_describes_the_awarded_version_and_meets_the_ob_3_0_schema(
    client: httpx.AsyncClient, db: Database, settings: Settings
) -> None:
    manager, member, award_id = await awarded(client, db, "dk")
    badge_id = await badge_of(client, award_id, member)
    edit = {"id": badge_id["id"], "name": "Renamed later"}
    body = await call(client, UPDATE, {"i": edit}, manager["accessToken"])
    assert body["data"]["updateBadge"]["badge"]["version"] == 2, body
    token = exported(await export(client, award_id, member["accessToken"]))
    claims = jwt.decode(token, options={"verify_signature": False})
    validator = jsonschema.Draft201909Validator(SCHEMA, format_checker=jsonschema.FormatChecker())
    assert [e.message for e in validator.iter_errors(claims)] == []
    achievement = claims["credentialSubject"]["achievement"]
    assert achievement["name"] == badge_id["name"] != "Renamed later"
    assert claims["issuer"]["id"] == f"{settings.public_url}/credentials/dk/issuer"
    assert claims["issuer"]["name"] == "Denmark"
    assert claims["credentialStatus"]["statusListCredential"].startswith(
        f"{settings.public_url}/credentials/dk/status/"
    )
    again = exported(await export(client, award_id, member["accessToken"]))
    again_claims = jwt.decode(again, options={"verify_signature": False})
    assert again_claims["credentialStatus"] == claims["credentialStatus"]


async def test_only_the_holder_exports_an_award(client: httpx.AsyncClient, db: Database) -> None:
    manager, member, award_id = await awarded(client, db, "dk")
    neighbour = await account(client, db, "dk")
    foreigner = await account(client, db, "se", role="territory_manager")
    assert codes(await export(client, award_id, neighbour["accessToken"])) == ["NOT_FOUND"]
    assert codes(await export(client, award_id, foreigner["accessToken"])) == ["NOT_FOUND"]
    assert codes(await export(client, award_id, manager["accessToken"])) == ["FORBIDDEN"]
    assert codes(await export(client, award_id, None)) == ["UNAUTHENTICATED"]
    malformed = await export(client, "not-an-id", member["accessToken"])
    assert codes(malformed) == ["BAD_USER_INPUT"]
    assert malformed["errors"][0]["extensions"]["field"] == "award"


async def test_an_export_reads_and_writes_a_fixed_number_of_statements(
    client: httpx.AsyncClient, db: Database, statements: StatementCounter
) -> None:
    _, member, award_id = await awarded(client, db, "se")
    exported(await export(client, award_id, member["accessToken"]))
    before = statements.count
    exported(await export(client, award_id, member["accessToken"]))
    assert statements.count - before == EXPORT_STATEMENTS, [
        s[1][:60] for s in statements.statements[before:]
    ]
