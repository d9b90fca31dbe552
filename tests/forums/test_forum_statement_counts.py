"""Statements per request do not grow with rows: pages under many parents are one statement."""

from __future__ import annotations

import uuid

import httpx
from sqlalchemy import insert, select

from db.engines import Database
from db.models import (
    forum_flags,
    forum_moderation_log,
    forums,
)
from domain.badges import BadgeRef
from tests.authkit import account, account_key, award_badge, call, define_badge
from tests.conftest import StatementCounter
from tests.forums.forumkit import fill_forums, ok

TERRITORY = "no"  # main server; its own forums only, written here directly

SHAPE = """query($t: String!) { forums(territory: $t, first: 20) { nodes { id name
  topics(first: 10) { nodes { id title
    comments(first: 10) { nodes { id body
      author { userId badges { badge { id name } } } } } } } } } }"""


async def test_forums_topics_comments_authors_badges_cost_the_same_for_any_n(
    auth_client: httpx.AsyncClient, db: Database, statements: StatementCounter
) -> None:
    """The benchmark's shape: forums -> topics -> comments -> author -> badges -> badge. The
    same statements for 2 forums as for 8 (registry, roles, forum page, topic page, comment
    page, awards, definitions...), never one per forum, topic, comment or author."""
    viewer = await account(auth_client, db, TERRITORY)
    people = [await account(auth_client, db, TERRITORY) for _ in range(3)]
    badge: BadgeRef = await define_badge(db, TERRITORY, name="Gardener")
    for person in people:
        await award_badge(db, person, badge)
    authors = [account_key(p) for p in people]
    counts = []
    for n in (2, 8):
        await fill_forums(db, TERRITORY, n, 3, 4, authors)
        statements.statements.clear()
        data = ok(await call(auth_client, SHAPE, {"t": TERRITORY}, viewer["accessToken"]))
        listed = data["forums"]["nodes"]
        assert len(listed) == n
        comments = [c for f in listed for t in f["topics"]["nodes"] for c in t["comments"]["nodes"]]
        assert len(comments) == n * 3 * 3  # replies are not top-level comments
        assert all(c["author"]["badges"][0]["badge"]["name"] == "Gardener" for c in comments)
        counts.append(statements.count)
    assert counts[0] == counts[1], statements.statements
    assert counts[0] <= 8, statements.statements


async def test_threads_and_replies_under_many_comments_cost_one_statement_each(
    auth_client: httpx.AsyncClient, db: Database, statements: StatementCounter
) -> None:
    viewer = await account(auth_client, db, TERRITORY)
    authors = [account_key(viewer)]
    query = """query($t: String!) { forums(territory: $t, first: 20) { nodes {
      topics(first: 10) { nodes { comments(first: 10) { nodes {
        body replies(first: 5) { nodes { body } } thread { body depth } } } } } } } }"""
    counts = []
    for n in (2, 6):
        await fill_forums(db, TERRITORY, n, 3, 4, authors)
        statements.statements.clear()
        data = ok(await call(auth_client, query, {"t": TERRITORY}, viewer["accessToken"]))
        topics = [t for f in data["forums"]["nodes"] for t in f["topics"]["nodes"]]
        assert len(topics) == n * 3
        for topic in topics:
            parents = [c for c in topic["comments"]["nodes"] if c["thread"]]
            assert [c["thread"] for c in parents] == [[{"body": "c3", "depth": 1}]]
            assert [c["replies"]["nodes"] for c in parents] == [[{"body": "c3"}]]
        reads = [sql for _, sql in statements.statements if "forum_comments" in sql]
        assert len(reads) == 3, reads  # top-level page, reply pages, threads
        counts.append(statements.count)
    assert counts[0] == counts[1], counts


async def test_children_review_queues_and_logs_under_many_forums(
    auth_client: httpx.AsyncClient, db: Database, statements: StatementCounter
) -> None:
    manager = await account(auth_client, db, TERRITORY, role="territory_manager")
    person = account_key(manager)
    query = """query($t: String!) { forums(territory: $t, first: 20) { nodes {
      children(first: 5) { nodes { id } }
      reviewQueue(first: 5) { nodes { reason targetKind } }
      moderationLog(first: 5) { nodes { action subject { userId } } } } } }"""
    counts = []
    for n in (2, 6):
        await fill_forums(db, TERRITORY, n, 3, 4, [person])
        async with db.transaction("main", TERRITORY) as conn:
            parents = [
                row[0]
                for row in await conn.execute(
                    select(forums.c.id).where(forums.c.name.like("count-%"))
                )
            ]
            for parent in parents:
                await conn.execute(
                    insert(forums).values(
                        id=uuid.uuid4(), parent_id=parent, name="count-child", position=99
                    )
                )
                target = uuid.uuid4()
                await conn.execute(
                    insert(forum_flags).values(
                        id=uuid.uuid4(),
                        forum_id=parent,
                        kind="comment",
                        target_id=target,
                        flagger_territory=person[0],
                        flagger_id=person[1],
                        reason="spam",
                    )
                )
                await conn.execute(
                    insert(forum_moderation_log).values(
                        id=uuid.uuid4(),
                        forum_id=parent,
                        action="hidden",
                        moderator_territory=person[0],
                        moderator_id=person[1],
                        kind="comment",
                        target_id=target,
                        subject_territory=person[0],
                        subject_id=person[1],
                    )
                )
        statements.statements.clear()
        data = ok(await call(auth_client, query, {"t": TERRITORY}, manager["accessToken"]))
        listed = [f for f in data["forums"]["nodes"] if f["reviewQueue"]["nodes"]]
        assert len(listed) == n
        assert all(len(f["children"]["nodes"]) == 1 for f in listed)
        assert all(f["moderationLog"]["nodes"][0]["action"] == "HIDDEN" for f in listed)
        counts.append(statements.count)
    assert counts[0] == counts[1], statements.statements
