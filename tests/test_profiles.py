"""Profiles, social groups and communities over GraphQL with real tokens; statement counts."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
from sqlalchemy import select

from db.engines import Database
from db.models import audit_log
from graph import ids
from tests.authkit import account, call, codes
from tests.conftest import StatementCounter

CREATE_COMMUNITY = """
mutation($i: CreateCommunityInput!) {
  createCommunity(input: $i) { id slug visibility viewerRole }
}"""


def ok(body: dict[str, Any]) -> dict[str, Any]:
    assert "errors" not in body, body
    data: dict[str, Any] = body["data"]
    return data


async def last_audit_id(db: Database) -> int:
    async with db.connect("main") as conn:
        found = (
            await conn.execute(select(audit_log.c.id).order_by(audit_log.c.id.desc()).limit(1))
        ).scalar()
    return int(found or 0)


async def audited(db: Database, since: int) -> list[tuple[str, dict[str, Any]]]:
    async with db.connect("main") as conn:
        rows = await conn.execute(
            select(audit_log.c.action, audit_log.c.details)
            .where(audit_log.c.id > since, audit_log.c.action.like("community.%"))
            .order_by(audit_log.c.id)
        )
        return [(str(a), dict(d)) for a, d in rows]


async def test_communities_create_join_roles_and_audit(
    auth_client: httpx.AsyncClient, db: Database
) -> None:
    for territory in ("dk", "se"):  # main server and second server
        manager = await account(auth_client, db, territory, role="territory_manager")
        alice = await account(auth_client, db, territory)
        bob = await account(auth_client, db, territory)
        outsider = await account(auth_client, db, "no")
        slug = f"garden-{uuid.uuid4().hex[:6]}"
        body = {"territory": territory, "slug": slug, "name": "Garden"}
        assert codes(
            await call(auth_client, CREATE_COMMUNITY, {"i": body}, alice["accessToken"])
        ) == ["FORBIDDEN"]
        for bad in ({"slug": "Bad Slug"}, {"name": "  "}, {"territory": "DK"}):
            assert codes(
                await call(
                    auth_client, CREATE_COMMUNITY, {"i": {**body, **bad}}, manager["accessToken"]
                )
            ) == ["BAD_USER_INPUT"]
        before = await last_audit_id(db)
        public = ok(await call(auth_client, CREATE_COMMUNITY, {"i": body}, manager["accessToken"]))[
            "createCommunity"
        ]
        assert public["viewerRole"] == "ADMIN"
        assert codes(
            await call(auth_client, CREATE_COMMUNITY, {"i": body}, manager["accessToken"])
        ) == ["ALREADY_EXISTS"]
        closed = ok(
            await call(
                auth_client,
                CREATE_COMMUNITY,
                {"i": {**body, "slug": slug + "-closed", "visibility": "INVITE_ONLY"}},
                manager["accessToken"],
            )
        )["createCommunity"]
        join = (
            "mutation($id: ID!) { joinCommunity(id: $id) { role community { slug viewerRole } } }"
        )
        joined = ok(await call(auth_client, join, {"id": public["id"]}, alice["accessToken"]))
        assert joined["joinCommunity"] == {
            "role": "MEMBER",
            "community": {"slug": slug, "viewerRole": "MEMBER"},
        }
        # Invite-only and invisible to non-members: it looks like no community at all.
        assert codes(await call(auth_client, join, {"id": closed["id"]}, alice["accessToken"])) == [
            "NOT_FOUND"
        ]
        assert codes(
            await call(auth_client, join, {"id": public["id"]}, outsider["accessToken"])
        ) == ["FORBIDDEN"]
        add = """mutation($c: ID!, $u: ID!) { addCommunityMember(communityId: $c, userId: $u) {
                   role profile { displayName } } }"""
        # Members cannot add; admins can: the way into invite-only communities (which
        # non-members cannot even see).
        for community, code in ((public, "FORBIDDEN"), (closed, "NOT_FOUND")):
            assert codes(
                await call(
                    auth_client,
                    add,
                    {"c": community["id"], "u": bob["user"]["id"]},
                    alice["accessToken"],
                )
            ) == [code]
        added = ok(
            await call(
                auth_client,
                add,
                {"c": closed["id"], "u": bob["user"]["id"]},
                manager["accessToken"],
            )
        )
        assert added["addCommunityMember"]["role"] == "MEMBER"
        assert codes(
            await call(
                auth_client,
                add,
                {"c": closed["id"], "u": outsider["user"]["id"]},
                manager["accessToken"],
            )
        ) == ["BAD_USER_INPUT"]
        role = """mutation($c: ID!, $u: ID!, $r: CommunityRole!) {
                    setCommunityMemberRole(communityId: $c, userId: $u, role: $r) { role } }"""
        promoted = ok(
            await call(
                auth_client,
                role,
                {"c": public["id"], "u": alice["user"]["id"], "r": "ADMIN"},
                manager["accessToken"],
            )
        )
        assert promoted == {"setCommunityMemberRole": {"role": "ADMIN"}}
        # Alice, now an admin, demotes the manager's admin membership; the last admin stays.
        ok(
            await call(
                auth_client,
                role,
                {"c": public["id"], "u": manager["user"]["id"], "r": "MODERATOR"},
                alice["accessToken"],
            )
        )
        leave = "mutation($id: ID!) { leaveCommunity(id: $id) }"
        assert codes(
            await call(auth_client, leave, {"id": public["id"]}, alice["accessToken"])
        ) == ["BAD_USER_INPUT"]
        assert codes(
            await call(
                auth_client,
                role,
                {"c": public["id"], "u": alice["user"]["id"], "r": "MEMBER"},
                alice["accessToken"],
            )
        ) == ["BAD_USER_INPUT"]
        assert ok(await call(auth_client, leave, {"id": public["id"]}, manager["accessToken"])) == {
            "leaveCommunity": True
        }
        assert ok(await call(auth_client, leave, {"id": public["id"]}, manager["accessToken"])) == {
            "leaveCommunity": False
        }
        mine = ok(
            await call(
                auth_client,
                "{ me { communities { role community { slug } } } }",
                token=alice["accessToken"],
            )
        )
        assert mine["me"]["communities"] == [{"role": "ADMIN", "community": {"slug": slug}}]
        actions = await audited(db, before)
        assert [a for a, _ in actions] == [
            "community.created",
            "community.created",
            "community.member_added",
            "community.role_changed",
            "community.role_changed",
        ]
        alice_key = ids.decode(alice["user"]["id"]).key
        assert actions[3][1] == {"user": alice_key, "from": "member", "to": "admin"}
        assert all("@" not in str(d) for _, d in actions)


async def test_member_lists_cost_statements_independent_of_n(
    auth_client: httpx.AsyncClient, db: Database, statements: StatementCounter
) -> None:
    manager = await account(auth_client, db, "c_dk_aarhus", role="territory_manager")
    created = ok(
        await call(
            auth_client,
            CREATE_COMMUNITY,
            {
                "i": {
                    "territory": "c_dk_aarhus",
                    "slug": f"bulk-{uuid.uuid4().hex[:6]}",
                    "name": "Bulk",
                }
            },
            manager["accessToken"],
        )
    )["createCommunity"]
    query = """query($id: ID!) { node(id: $id) { ... on Community { members(first: 50) {
        nodes { role profile { displayName languages { language } socialLinks { url } } } } } } }"""
    counts = []
    joined = 1
    for n in (3, 9):
        while joined < n:
            member = await account(auth_client, db, "c_dk_aarhus")
            ok(
                await call(
                    auth_client,
                    "mutation($id: ID!) { joinCommunity(id: $id) { role } }",
                    {"id": created["id"]},
                    member["accessToken"],
                )
            )
            joined += 1
        statements.statements.clear()
        body = ok(await call(auth_client, query, {"id": created["id"]}, manager["accessToken"]))
        nodes = body["node"]["members"]["nodes"]
        assert len(nodes) == n
        assert all(m["profile"]["displayName"] for m in nodes)
        counts.append(statements.count)
    assert counts[0] == counts[1], counts
