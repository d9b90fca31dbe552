"""Defining, editing, awarding and revoking badges through GraphQL, on both servers."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest
from sqlalchemy import insert

from db.engines import Database
from db.models import communities, community_memberships
from domain.badges import Permission
from graph import ids
from tests.authkit import (
    account,
    account_key,
    award_badge,
    call,
    codes,
    define_badge,
    fields,
    server_of,
)

CREATE = """
mutation($i: CreateBadgeInput!) {
  createBadge(input: $i) { badge { id version level permissions prerequisites { id } } }
}"""
UPDATE = """
mutation($i: UpdateBadgeInput!) {
  updateBadge(input: $i) { badge { id version name prerequisites { id } } }
}"""
AWARD = """
mutation($i: AwardBadgeInput!) {
  awardBadge(input: $i) { renewed award { id status version awardedAt validFrom validUntil } }
}"""
REVOKE = """
mutation($i: RevokeBadgeAwardInput!) {
  revokeBadgeAward(input: $i) { revokedNow award { id status revokeReason } }
}"""
PERMISSIONS = "{ me { permissions { permission level territory communityId } } }"


def badge_node(ref: Any) -> str:
    return ids.encode("Badge", ref.home, str(ref.id))


async def create(client: httpx.AsyncClient, token: str, **fields_: Any) -> dict[str, Any]:
    return await call(client, CREATE, {"i": {"name": "A badge", **fields_}}, token)


@pytest.mark.parametrize("territory", ["dk", "se"])
async def test_managers_define_their_territory_badges(
    client: httpx.AsyncClient, db: Database, territory: str
) -> None:
    manager = await account(client, db, territory, role="territory_manager")
    member = await account(client, db, territory)
    token = manager["accessToken"]
    body = await create(
        client, token, level="TERRITORY", territory=territory, permissions=["FORUM_POST"]
    )
    assert "errors" not in body, body
    badge = body["data"]["createBadge"]["badge"]
    assert badge["version"] == 1
    assert badge["permissions"] == ["FORUM_POST"]
    refused = await create(client, member["accessToken"], level="TERRITORY", territory=territory)
    assert codes(refused) == ["FORBIDDEN"]
    other = "se" if territory == "dk" else "dk"
    assert codes(await create(client, token, level="TERRITORY", territory=other)) == ["FORBIDDEN"]
    assert codes(await create(client, token, level="GLOBAL")) == ["FORBIDDEN"]


async def test_global_admins_define_global_badges(client: httpx.AsyncClient, db: Database) -> None:
    admin = await account(client, db, "global", role="global_admin")
    body = await create(client, admin["accessToken"], level="GLOBAL", validityDays=30)
    assert body["data"]["createBadge"]["badge"]["level"] == "GLOBAL"


async def test_closed_permissions_and_field_rules(client: httpx.AsyncClient, db: Database) -> None:
    manager = await account(client, db, "dk", role="territory_manager")
    token = manager["accessToken"]
    unknown = await create(client, token, level="TERRITORY", territory="dk", permissions=["X"])
    assert codes(unknown) == ["BAD_USER_INPUT"]
    for bad, field in (
        ({"name": " "}, "name"),
        ({"validityDays": 0}, "validityDays"),
        ({"category": "Not A Slug"}, "category"),
        ({"rules": [{"event": "nothing.happened", "threshold": 1}]}, "rules"),
        ({"image": "http://x"}, "image"),
    ):
        body = await create(client, token, level="TERRITORY", territory="dk", **bad)
        assert codes(body) == ["BAD_USER_INPUT"], (bad, body)
        assert fields(body) == [field], (bad, body)
    foreign = await define_badge(db, "se")
    body = await create(
        client, token, level="TERRITORY", territory="dk", prerequisites=[badge_node(foreign)]
    )
    assert fields(body) == ["prerequisites"]


async def test_a_cycle_is_refused_with_its_own_code(
    client: httpx.AsyncClient, db: Database
) -> None:
    manager = await account(client, db, "dk", role="territory_manager")
    token = manager["accessToken"]
    a = await define_badge(db, "dk")
    b = await define_badge(db, "dk", prerequisites=(a,))
    c = await define_badge(db, "dk", prerequisites=(b,))
    body = await call(
        client, UPDATE, {"i": {"id": badge_node(a), "prerequisites": [badge_node(c)]}}, token
    )
    assert codes(body) == ["PREREQUISITE_CYCLE"]
    error = body["errors"][0]["extensions"]
    assert error["field"] == "prerequisites"
    assert error["cycle"] == [badge_node(a), badge_node(c), badge_node(b), badge_node(a)]
    itself = await call(
        client, UPDATE, {"i": {"id": badge_node(a), "prerequisites": [badge_node(a)]}}, token
    )
    assert codes(itself) == ["PREREQUISITE_CYCLE"]
    fine = await call(client, UPDATE, {"i": {"id": badge_node(c), "name": "Renamed"}}, token)
    assert fine["data"]["updateBadge"]["badge"]["version"] == 2
    assert fine["data"]["updateBadge"]["badge"]["name"] == "Renamed"
    assert [p["id"] for p in fine["data"]["updateBadge"]["badge"]["prerequisites"]] == [
        badge_node(b)
    ]


async def test_award_without_prerequisites_is_refused_listing_them(
    client: httpx.AsyncClient, db: Database
) -> None:
    manager = await account(client, db, "dk", role="territory_manager")
    member = await account(client, db, "dk")
    token = manager["accessToken"]
    first, second = await define_badge(db, "global"), await define_badge(db, "dk")
    target = await define_badge(db, "dk", prerequisites=(first, second))
    await award_badge(db, member, second)
    request = {
        "badge": badge_node(target),
        "recipient": member["user"]["id"],
        "reason": "well done",
    }
    body = await call(client, AWARD, {"i": request}, token)
    assert codes(body) == ["MISSING_PREREQUISITES"]
    assert body["errors"][0]["extensions"]["missing"] == [badge_node(first)]
    await award_badge(db, member, first)
    body = await call(client, AWARD, {"i": request}, token)
    assert "errors" not in body, body
    assert body["data"]["awardBadge"]["renewed"] is False


async def test_renewal_keeps_awarded_at_and_revocation_has_a_reason(
    client: httpx.AsyncClient, db: Database
) -> None:
    manager = await account(client, db, "se", role="territory_manager")
    member = await account(client, db, "se")
    token = manager["accessToken"]
    badge = await define_badge(db, "se", validity_days=10, permissions=(Permission.FORUM_POST,))
    request = {"badge": badge_node(badge), "recipient": member["user"]["id"], "reason": "first"}
    first = (await call(client, AWARD, {"i": request}, token))["data"]["awardBadge"]
    again = (await call(client, AWARD, {"i": request}, token))["data"]["awardBadge"]
    assert again["renewed"] is True
    assert again["award"]["id"] == first["award"]["id"]
    assert again["award"]["awardedAt"] == first["award"]["awardedAt"]
    assert again["award"]["validFrom"] > first["award"]["validFrom"]
    perms = await call(client, PERMISSIONS, token=member["accessToken"])
    assert {
        "permission": "FORUM_POST",
        "level": "TERRITORY",
        "territory": "se",
        "communityId": None,
    } in perms["data"]["me"]["permissions"]
    revoke = {"award": first["award"]["id"], "reason": "broke the rules"}
    stranger = await account(client, db, "se")
    assert codes(await call(client, REVOKE, {"i": revoke}, stranger["accessToken"])) == [
        "NOT_FOUND"
    ]
    assert codes(await call(client, REVOKE, {"i": revoke}, member["accessToken"])) == ["FORBIDDEN"]
    done = (await call(client, REVOKE, {"i": revoke}, token))["data"]["revokeBadgeAward"]
    assert done["revokedNow"] is True
    assert done["award"] == {
        "id": first["award"]["id"],
        "status": "REVOKED",
        "revokeReason": "broke the rules",
    }
    twice = (await call(client, REVOKE, {"i": revoke}, token))["data"]["revokeBadgeAward"]
    assert twice["revokedNow"] is False
    history = await call(
        client,
        "query($id: ID!) { node(id: $id) { ... on BadgeAward { history { action reason } } } }",
        {"id": first["award"]["id"]},
        member["accessToken"],
    )
    assert history["data"]["node"]["history"] == [
        {"action": "AWARDED", "reason": "first"},
        {"action": "RENEWED", "reason": "first"},
        {"action": "REVOKED", "reason": "broke the rules"},
    ]
    perms = await call(client, PERMISSIONS, token=member["accessToken"])
    assert perms["data"]["me"]["permissions"] == []


async def test_a_revoked_prerequisite_switches_off_the_dependent_permissions(
    client: httpx.AsyncClient, db: Database
) -> None:
    admin = await account(client, db, "global", role="global_admin")
    member = await account(client, db, "dk")
    base = await define_badge(db, "global")
    moderator = await define_badge(
        db, "dk", permissions=(Permission.FORUM_MODERATE,), prerequisites=(base,)
    )
    base_award = await award_badge(db, member, base)
    await award_badge(db, member, moderator)
    before = await call(client, PERMISSIONS, token=member["accessToken"])
    assert [p["permission"] for p in before["data"]["me"]["permissions"]] == ["FORUM_MODERATE"]
    revoke = {"award": ids.encode("BadgeAward", "dk", str(base_award.id)), "reason": "lapsed"}
    done = await call(client, REVOKE, {"i": revoke}, admin["accessToken"])
    assert "errors" not in done, done
    after = await call(client, PERMISSIONS, token=member["accessToken"])
    assert after["data"]["me"]["permissions"] == []


async def test_isolation_dk_badges_never_reach_se_accounts(
    client: httpx.AsyncClient, db: Database
) -> None:
    admin = await account(client, db, "global", role="global_admin")
    se_member = await account(client, db, "se")
    dk_badge = await define_badge(db, "dk")
    body = await call(
        client,
        AWARD,
        {"i": {"badge": badge_node(dk_badge), "recipient": se_member["user"]["id"], "reason": "x"}},
        admin["accessToken"],
    )
    assert codes(body) == ["BAD_USER_INPUT"]
    assert fields(body) == ["recipient"]
    global_badge = await define_badge(db, "global")
    body = await call(
        client,
        AWARD,
        {
            "i": {
                "badge": badge_node(global_badge),
                "recipient": se_member["user"]["id"],
                "reason": "x",
            }
        },
        admin["accessToken"],
    )
    assert "errors" not in body, body


async def test_community_admins_define_and_award_their_community_badges(
    client: httpx.AsyncClient, db: Database
) -> None:
    admin, member, other = [await account(client, db, "dk") for _ in range(3)]
    community = uuid.uuid4()
    async with db.transaction(server_of("dk"), "dk") as conn:
        await conn.execute(
            insert(communities).values(id=community, slug=f"cb-{community.hex[:10]}", name="CB")
        )
        await conn.execute(
            insert(community_memberships).values(
                community_id=community, user_id=account_key(admin)[1], role="admin"
            )
        )
    community_id = ids.encode("Community", "dk", str(community))
    fields_ = {"level": "COMMUNITY", "territory": "dk", "community": community_id}
    body = await create(client, admin["accessToken"], permissions=["FORUM_MODERATE"], **fields_)
    assert "errors" not in body, body
    badge = body["data"]["createBadge"]["badge"]
    assert badge["level"] == "COMMUNITY"
    assert codes(await create(client, other["accessToken"], **fields_)) == ["FORBIDDEN"]
    territory_wide = await create(client, admin["accessToken"], level="TERRITORY", territory="dk")
    assert codes(territory_wide) == ["FORBIDDEN"]
    request = {"badge": badge["id"], "recipient": member["user"]["id"], "reason": "helps out"}
    assert codes(await call(client, AWARD, {"i": request}, other["accessToken"])) == ["FORBIDDEN"]
    awarded = await call(client, AWARD, {"i": request}, admin["accessToken"])
    assert "errors" not in awarded, awarded
    perms = await call(client, PERMISSIONS, token=member["accessToken"])
    assert perms["data"]["me"]["permissions"] == [
        {
            "permission": "FORUM_MODERATE",
            "level": "COMMUNITY",
            "territory": "dk",
            "communityId": community_id,
        }
    ]
