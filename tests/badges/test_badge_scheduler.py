"""The scheduler with a moved clock: renewal notices at 30/14/7 days exactly once with two
instances running, a missed notice day caught up once, expiry announced once, automatic awards
idempotent per event and counted for the person each event type names (forum comments too)."""

from __future__ import annotations

import asyncio
import json
import os
import uuid
import warnings
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from db.engines import Database
from db.models import badge_award_history, outbox
from domain.badges import BadgeRef
from graph import ids
from graph.server.app import create_app
from scheduler.registry import JOBS
from scheduler.runner import Scheduler
from tests.authkit import CLI, account, account_key, award_badge, call, define_badge, server_of
from tests.conftest import CHECKOUT, MAIN_DSN
from tests.events.conftest import wait_for
from tests.forums.forumkit import new_comment, new_forum, new_topic
from unityplan.settings import Settings

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", "Using `httpx`", UserWarning)
    from starlette.testclient import TestClient

T0 = datetime.now(UTC)


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now


def two_schedulers(db: Database, clock: Clock, job: str) -> tuple[Scheduler, Scheduler]:
    """Two replicas of one job (as two processes would run it), sharing the database."""
    return (
        Scheduler(db, node_id=ids.encode, clock=clock, jobs=[JOBS[job]]),
        Scheduler(db, node_id=ids.encode, clock=clock, jobs=[JOBS[job]]),
    )


async def run_both(pair: tuple[Scheduler, Scheduler]) -> None:
    await asyncio.gather(pair[0].run_due(), pair[1].run_due())


async def events_about(db: Database, territory: str, award_id: uuid.UUID, kind: str) -> list[Any]:
    """Payloads of the ``kind`` events about one award in the territory's outbox, oldest first."""
    async with db.connect(server_of(territory), territory) as conn:
        rows = await conn.execute(
            select(outbox.c.envelope)
            .where(
                outbox.c.envelope["type"].astext == kind,
                outbox.c.envelope["payload"]["award_id"].astext == str(award_id),
            )
            .order_by(outbox.c.id)
        )
        return [row[0]["payload"] for row in rows]


async def notices(db: Database, territory: str, award_id: uuid.UUID) -> list[str]:
    """The renewal notices sent about an award, as their days before expiry."""
    found = await events_about(db, territory, award_id, "badge.renewal_needed")
    return [p["days_before"] for p in found]


async def test_notices_at_30_14_7_days_exactly_once_with_two_instances(
    client: httpx.AsyncClient, db: Database
) -> None:
    member = await account(client, db, "se")
    badge = await define_badge(db, "se", validity_days=60)
    award = await award_badge(db, member, badge, now=T0)
    clock = Clock()
    pair = two_schedulers(db, clock, "badges.renewal_notices")
    sent: list[str] = []
    for day in (0, 29, 30, 30.5, 31, 45, 46, 47, 52, 53, 54, 59):
        clock.now = T0 + timedelta(days=day, seconds=1)
        await run_both(pair)
        await run_both(pair)
        sent = [
            p["days_before"] for p in await events_about(db, "se", award.id, "badge.renewal_needed")
        ]
        expected = [d for d, at in (("30", 30), ("14", 46), ("7", 53)) if day >= at]
        assert sent == expected, (day, sent)
    assert sent == ["30", "14", "7"]
    payload = (await events_about(db, "se", award.id, "badge.renewal_needed"))[0]
    assert payload["user_id"] == str(award.user_id)
    assert payload["badge_home"] == "se"


async def test_a_missed_notice_day_is_caught_up_once(
    client: httpx.AsyncClient, db: Database
) -> None:
    member = await account(client, db, "dk")
    badge = await define_badge(db, "global", validity_days=60)
    award = await award_badge(db, member, badge, now=T0)
    clock = Clock()
    pair = two_schedulers(db, clock, "badges.renewal_notices")
    # Down from day 29 to day 47: the 30-day and 14-day notices were both due meanwhile.
    clock.now = T0 + timedelta(days=29)
    await run_both(pair)
    clock.now = T0 + timedelta(days=47)
    await run_both(pair)
    await run_both(pair)
    sent = [
        p["days_before"] for p in await events_about(db, "dk", award.id, "badge.renewal_needed")
    ]
    assert sent == ["14"]
    clock.now = T0 + timedelta(days=53, seconds=1)
    await run_both(pair)
    sent = [
        p["days_before"] for p in await events_about(db, "dk", award.id, "badge.renewal_needed")
    ]
    assert sent == ["14", "7"]


async def test_a_renewal_gets_notices_of_its_own(client: httpx.AsyncClient, db: Database) -> None:
    member = await account(client, db, "dk")
    badge = await define_badge(db, "dk", validity_days=40)
    award = await award_badge(db, member, badge, now=T0)
    clock = Clock()
    pair = two_schedulers(db, clock, "badges.renewal_notices")
    clock.now = T0 + timedelta(days=11)
    await run_both(pair)
    await award_badge(db, member, badge, now=T0 + timedelta(days=12))  # renewed: 40 days again
    clock.now = T0 + timedelta(days=12 + 11)
    await run_both(pair)
    sent = [
        p["days_before"] for p in await events_about(db, "dk", award.id, "badge.renewal_needed")
    ]
    assert sent == ["30", "30"]


async def test_expiry_is_announced_once_and_renewal_restores(
    client: httpx.AsyncClient, db: Database
) -> None:
    member = await account(client, db, "se")
    badge = await define_badge(db, "se", validity_days=10)
    award = await award_badge(db, member, badge, now=T0)
    clock = Clock()
    pair = two_schedulers(db, clock, "badges.expire")
    clock.now = T0 + timedelta(days=9)
    await run_both(pair)
    assert await events_about(db, "se", award.id, "badge.expired") == []
    clock.now = T0 + timedelta(days=10, seconds=1)
    await run_both(pair)
    await run_both(pair)
    assert len(await events_about(db, "se", award.id, "badge.expired")) == 1
    async with db.connect(server_of("se"), "se") as conn:
        actions = (
            (
                await conn.execute(
                    select(badge_award_history.c.action)
                    .where(badge_award_history.c.award_id == award.id)
                    .order_by(badge_award_history.c.id)
                )
            )
            .scalars()
            .all()
        )
    assert actions == ["awarded", "expired"]
    await award_badge(db, member, badge, now=clock.now)
    clock.now += timedelta(days=11)
    await run_both(pair)
    assert len(await events_about(db, "se", award.id, "badge.expired")) == 2


JOIN = "mutation($id: ID!) { joinCommunity(input: {communityId: $id}) { joined } }"
CREATE_COMMUNITY = """
mutation($slug: String!) {
  createCommunity(input: {territory: "dk", slug: $slug, name: "Rule test"}) { community { id } }
}"""
CREATE_BADGE = """
mutation($i: CreateBadgeInput!) {
  createBadge(input: $i) { badge { id rules { event threshold } } }
}"""
BADGES = "{ me { badges { nodes { badge { id } } } } }"


async def test_automatic_awards_count_each_event_once(
    client: httpx.AsyncClient, db: Database
) -> None:
    manager = await account(client, db, "dk", role="territory_manager")
    member = await account(client, db, "dk")
    boss = manager["accessToken"]
    rule = {"event": "community.member_joined", "threshold": 2}
    created = await call(
        client,
        CREATE_BADGE,
        {"i": {"level": "TERRITORY", "territory": "dk", "name": "Joiner", "rules": [rule]}},
        boss,
    )
    assert "errors" not in created, created
    badge_id = created["data"]["createBadge"]["badge"]["id"]
    communities = []
    for _ in range(2):
        slug = f"rules-{uuid.uuid4().hex[:8]}"
        body = await call(client, CREATE_COMMUNITY, {"slug": slug}, boss)
        communities.append(body["data"]["createCommunity"]["community"]["id"])
    clock = Clock()
    pair = two_schedulers(db, clock, "badges.rule_sweep")

    async def held() -> list[str]:
        body = await call(client, BADGES, token=member["accessToken"])
        return [n["badge"]["id"] for n in body["data"]["me"]["badges"]["nodes"]]

    async def sweep() -> None:
        clock.now += timedelta(minutes=2)  # past the job's interval: both replicas run it
        await run_both(pair)

    assert "errors" not in await call(client, JOIN, {"id": communities[0]}, member["accessToken"])
    await sweep()
    assert badge_id not in await held()
    await sweep()  # the same event, seen again, still counts once
    assert badge_id not in await held()
    assert "errors" not in await call(client, JOIN, {"id": communities[1]}, member["accessToken"])
    await sweep()
    await sweep()
    assert (await held()).count(badge_id) == 1
    key = ids.decode(badge_id)
    ref = BadgeRef(key.territory_id, uuid.UUID(key.key))
    async with db.connect(server_of("dk"), "dk") as conn:
        awarded = await conn.execute(
            select(func.count())
            .select_from(outbox)
            .where(
                outbox.c.envelope["type"].astext == "badge.awarded",
                outbox.c.envelope["payload"]["badge_id"].astext == str(ref.id),
            )
        )
        assert awarded.scalar_one() == 1


async def test_unityplan_scheduler_runs_alone_and_stops_on_sigterm(
    client: httpx.AsyncClient, db: Database
) -> None:
    """`unityplan scheduler` (the wall clock): an award that ended two days ago is announced."""
    member = await account(client, db, "dk")
    badge = await define_badge(db, "dk", validity_days=1)
    award = await award_badge(db, member, badge, now=datetime.now(UTC) - timedelta(days=2))
    env = {
        **os.environ,
        "DATABASE_URL": MAIN_DSN,
        "DATABASE_SERVERS": json.dumps({"second": db.dsn("second")}),
        "UNITYPLAN_ENV": "test",
        "PYTHONPATH": CHECKOUT,
        "LOG_FORMAT": "text",
    }
    proc = await asyncio.create_subprocess_exec(
        CLI,
        "scheduler",
        env=env,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )

    async def announced() -> bool:
        return bool(await events_about(db, "dk", award.id, "badge.expired"))

    try:
        await wait_for(announced, timeout=60, interval=0.5)
    finally:
        proc.terminate()
        _, err = await asyncio.wait_for(proc.communicate(), 30)
    assert proc.returncode == 0, err.decode()[-2000:]
    assert len(await events_about(db, "dk", award.id, "badge.expired")) == 1


@pytest.mark.filterwarnings("ignore:Using `httpx`:UserWarning")
def test_unityplan_serve_runs_the_scheduler_unless_turned_off(
    settings: Settings, db: Database
) -> None:
    """The API's lifespan starts a scheduler with every registered job, and stops it."""
    for enabled in (True, False):
        app = create_app(settings.model_copy(update={"scheduler": enabled}))
        with TestClient(app):
            running = app.state.scheduler
            if enabled:
                assert {job.name for job in running.scheduler.jobs} >= set(JOBS)
                assert {"badges.expire", "badges.renewal_notices", "badges.rule_sweep"} <= set(JOBS)
            else:
                assert running is None


async def test_forum_comments_count_for_their_author(
    client: httpx.AsyncClient, db: Database
) -> None:
    """forum.comment_added names its person in ``author_id`` (its ``PERSON``), not ``user_id``."""
    manager = await account(client, db, "dk", role="territory_manager")
    member = await account(client, db, "dk")
    other = await account(client, db, "dk")
    rule = {"event": "forum.comment_added", "threshold": 3}
    created = await call(
        client,
        CREATE_BADGE,
        {"i": {"level": "TERRITORY", "territory": "dk", "name": "Commenter", "rules": [rule]}},
        manager["accessToken"],
    )
    assert "errors" not in created, created
    badge_id = created["data"]["createBadge"]["badge"]["id"]
    forum = await new_forum(client, manager["accessToken"], "dk", name="Rules")
    topic = await new_topic(client, other["accessToken"], forum)
    clock = Clock()
    pair = two_schedulers(db, clock, "badges.rule_sweep")

    async def held(who: dict[str, Any]) -> list[str]:
        body = await call(client, BADGES, token=who["accessToken"])
        return [n["badge"]["id"] for n in body["data"]["me"]["badges"]["nodes"]]

    async def sweep() -> None:
        clock.now += timedelta(minutes=2)
        await run_both(pair)

    for n in range(2):
        await new_comment(client, member["accessToken"], topic, f"comment {n}")
    await new_comment(client, other["accessToken"], topic, "not the member's")
    await sweep()
    assert badge_id not in await held(member)  # two of their own; the third is another's
    await new_comment(client, member["accessToken"], topic, "the third")
    await sweep()
    await sweep()
    assert (await held(member)).count(badge_id) == 1
    assert badge_id not in await held(other)  # a topic and one comment
    ref = ids.decode(badge_id)
    # The member's awards only: comments other modules left in dk's outbox count for their
    # authors too (a rule counts every event still in the outbox, whenever it was written).
    async with db.connect(server_of("dk"), "dk") as conn:
        awarded = await conn.execute(
            select(func.count())
            .select_from(outbox)
            .where(
                outbox.c.envelope["type"].astext == "badge.awarded",
                outbox.c.envelope["payload"]["badge_id"].astext == ref.key,
                outbox.c.envelope["payload"]["user_id"].astext == str(account_key(member)[1]),
            )
        )
        assert awarded.scalar_one() == 1


async def test_rules_name_only_events_that_name_a_person(
    client: httpx.AsyncClient, db: Database
) -> None:
    """forum.content_flagged names the flagged content's author, not who acted; no rule."""
    manager = await account(client, db, "dk", role="territory_manager")
    rule = {"event": "forum.content_flagged", "threshold": 1}
    body = await call(
        client,
        CREATE_BADGE,
        {"i": {"level": "TERRITORY", "territory": "dk", "name": "Flagged", "rules": [rule]}},
        manager["accessToken"],
    )
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT", body
    assert body["errors"][0]["extensions"]["field"] == "rules"
