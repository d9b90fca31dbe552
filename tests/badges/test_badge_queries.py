"""Reading badges: ``User.badges``, ``Badge.prerequisites``, the catalogue, node lookups, and
statements bounded by depth x territories over hundreds of users on two servers."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import delete, insert

from db.badges import new_id
from db.engines import Database
from db.models import badge_awards, users
from domain.badges import BadgeRef, Permission
from graph import ids
from tests.authkit import account, award_badge, call, define_badge, server_of
from tests.conftest import StatementCounter

USER_BADGES = """
query($id: ID!, $all: Boolean!, $after: String) {
  node(id: $id) {
    ... on User {
      badges(first: 2, after: $after, includeExpired: $all) {
        pageInfo { hasNextPage endCursor }
        nodes {
          id status version awardedAt validUntil
          badge { id name level permissions prerequisites { id name } territory { code } }
        }
      }
    }
  }
}
"""


async def test_user_badges_pages_and_hides_lapsed_awards(
    client: httpx.AsyncClient, db: Database
) -> None:
    member = await account(client, db, "dk")
    base = await define_badge(db, "global", permissions=(Permission.FORUM_READ,))
    posting = await define_badge(
        db, "dk", permissions=(Permission.FORUM_POST,), prerequisites=(base,)
    )
    lapsed = await define_badge(db, "dk", validity_days=1)
    await award_badge(db, member, base)
    await award_badge(db, member, posting)
    await award_badge(db, member, lapsed, now=datetime.now(UTC) - timedelta(days=2))
    user_id = member["user"]["id"]
    token = member["accessToken"]

    body = await call(client, USER_BADGES, {"id": user_id, "all": False}, token)
    assert "errors" not in body, body
    page = body["data"]["node"]["badges"]
    assert page["pageInfo"]["hasNextPage"] is False
    names = [n["badge"]["id"] for n in page["nodes"]]
    assert names == [
        ids.encode("Badge", "dk", str(posting.id)),
        ids.encode("Badge", "global", str(base.id)),
    ]
    newest = page["nodes"][0]
    assert newest["status"] == "VALID"
    assert newest["badge"]["permissions"] == ["FORUM_POST"]
    assert newest["badge"]["level"] == "TERRITORY"
    assert newest["badge"]["territory"] == {"code": "dk"}
    assert [p["id"] for p in newest["badge"]["prerequisites"]] == [
        ids.encode("Badge", "global", str(base.id))
    ]
    assert page["nodes"][1]["badge"]["territory"] is None

    first = await call(client, USER_BADGES, {"id": user_id, "all": True}, token)
    first_page = first["data"]["node"]["badges"]
    assert first_page["pageInfo"]["hasNextPage"] is True
    assert first_page["nodes"][0]["status"] == "EXPIRED"
    after = first_page["pageInfo"]["endCursor"]
    rest = await call(client, USER_BADGES, {"id": user_id, "all": True, "after": after}, token)
    assert len(rest["data"]["node"]["badges"]["nodes"]) == 1


async def test_awards_are_seen_only_by_who_sees_the_account(
    client: httpx.AsyncClient, db: Database
) -> None:
    member, stranger = await account(client, db, "dk"), await account(client, db, "dk")
    badge = await define_badge(db, "dk")
    award = await award_badge(db, member, badge)
    node_id = ids.encode("BadgeAward", "dk", str(award.id))
    query = "query($id: ID!) { node(id: $id) { id ... on BadgeAward { status } } }"
    own = await call(client, query, {"id": node_id}, member["accessToken"])
    assert own["data"]["node"] == {"id": node_id, "status": "VALID"}
    other = await call(client, query, {"id": node_id}, stranger["accessToken"])
    assert other["data"]["node"] is None


async def test_catalogue_lists_each_level_apart(client: httpx.AsyncClient, db: Database) -> None:
    viewer = await account(client, db, "se")
    dk_badge = await define_badge(db, "dk")
    se_badge = await define_badge(db, "se")
    query = """
    query($level: BadgeLevel!, $t: String) {
      badges(level: $level, territory: $t, first: 100) { nodes { id level } }
    }"""
    token = viewer["accessToken"]
    se = await call(client, query, {"level": "TERRITORY", "t": "se"}, token)
    listed = {n["id"] for n in se["data"]["badges"]["nodes"]}
    assert ids.encode("Badge", "se", str(se_badge.id)) in listed
    assert ids.encode("Badge", "dk", str(dk_badge.id)) not in listed
    bad = await call(client, query, {"level": "GLOBAL", "t": "se"}, token)
    assert bad["errors"][0]["extensions"] == {"code": "BAD_USER_INPUT", "field": "territory"}
    node = await call(
        client,
        "query($id: ID!) { node(id: $id) { ... on Badge { level } } }",
        {"id": ids.encode("Badge", "dk", str(dk_badge.id))},
        token,
    )
    assert node["data"]["node"] == {"level": "TERRITORY"}


# --- statements: users -> badges -> definition -> prerequisites, 500 users on two servers


async def bulk_people(db: Database, territory: str, n: int, badges: list[BadgeRef]) -> list[str]:
    """``n`` users of ``territory``, each holding ``badges``; their ``User`` ids."""
    now = datetime.now(UTC)
    people = [uuid.uuid4() for _ in range(n)]
    async with db.transaction(server_of(territory), territory) as conn:
        await conn.execute(
            insert(users),
            [
                {
                    "id": p,
                    "username": f"bulk{p.hex[:12]}",
                    "email": f"bulk{p.hex[:12]}@example.org",
                    "password_hash": "x",
                    "display_name": "bulk",
                }
                for p in people
            ],
        )
        await conn.execute(
            insert(badge_awards),
            [
                {
                    "id": new_id(),
                    "user_id": p,
                    "badge_home": b.home,
                    "badge_id": b.id,
                    "version": 1,
                    "awarded_at": now,
                    "valid_from": now,
                    "source": "manual",
                }
                for p in people
                for b in badges
            ],
        )
    return [ids.encode("User", territory, str(p)) for p in people]


async def drop_people(db: Database, territory: str, user_ids: list[str]) -> None:
    keys = [uuid.UUID(ids.decode(u).key) for u in user_ids]
    async with db.transaction(server_of(territory), territory) as conn:
        await conn.execute(delete(users).where(users.c.id.in_(keys)))


def deep_query(user_ids: list[str]) -> tuple[str, dict[str, Any]]:
    chunks = [user_ids[i : i + 100] for i in range(0, len(user_ids), 100)]
    fields = " ".join(
        f"c{i}: nodes(ids: $c{i}) {{ ... on User {{ id badges(first: 3) {{ nodes {{ id "
        "badge { name prerequisites { name prerequisites { name } } } } } } }"
        for i in range(len(chunks))
    )
    header = ", ".join(f"$c{i}: [ID!]!" for i in range(len(chunks)))
    return f"query({header}) {{ {fields} }}", {f"c{i}": c for i, c in enumerate(chunks)}


async def test_statements_bounded_by_depth_and_territories(
    client: httpx.AsyncClient, db: Database, statements: StatementCounter
) -> None:
    admin = await account(client, db, "global", role="global_admin")
    root = await define_badge(db, "global")
    middle = await define_badge(db, "global", prerequisites=(root,))
    dk_badge = await define_badge(db, "dk", prerequisites=(middle,))
    se_badge = await define_badge(db, "se", prerequisites=(middle,))
    counts = []
    for per_territory in (5, 250):
        dk = await bulk_people(db, "dk", per_territory, [root, middle, dk_badge])
        se = await bulk_people(db, "se", per_territory, [root, middle, se_badge])
        query, variables = deep_query(dk + se)
        statements.statements.clear()
        body = await call(client, query, variables, admin["accessToken"])
        counts.append(statements.count)
        assert "errors" not in body, body["errors"][:2]
        people = [p for chunk in body["data"].values() for p in chunk]
        assert len(people) == 2 * per_territory
        assert all(len(p["badges"]["nodes"]) == 3 for p in people)
        await drop_people(db, "dk", dk)
        await drop_people(db, "se", se)
    assert counts[0] == counts[1], counts
    # registry + per territory (users, award pages) + definitions per depth (global, dk, se)
    depth, territories = 4, 2
    assert counts[1] <= depth * (territories + 1) + 1, counts
